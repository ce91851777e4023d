"""Replay of a shared Binance recording pair through the engine."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.events import END_OF_MESSAGE_FLAG, TRADE_EVENT, concat_events
from thalex_trio.sim.market.binance import BinanceReplay, ReplayDataError

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "binance-btc-perp"
PAIR = (DATA / "btcusdt_20240718.gz", DATA / "btcusdt_20240719.gz")
PERP = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 0.1, 0.001, 0.001)


def test_full_pair_replays_without_crossed_book_or_sequence_break() -> None:
    replay = BinanceReplay(0.1, 0.001)
    engine = MatchingEngine([PERP])
    last_ts = 0
    n_events = 0
    for chunk in replay.read_files(PAIR):
        assert chunk.shape[0] <= 65_536 + 2_001  # bounded chunks (one snapshot may overshoot)
        assert (chunk["exch_ts_ns"][1:] >= chunk["exch_ts_ns"][:-1]).all()
        assert chunk["exch_ts_ns"][0] >= last_ts
        last_ts = int(chunk["exch_ts_ns"][-1])
        n_events += chunk.shape[0]
        engine.feed(PERP.name, chunk)
        engine.advance_to(last_ts)
    stats = engine.stats(PERP.name)
    assert replay.snapshots == 1
    assert replay.sequence_breaks == 0
    assert stats["crossed"] == 0
    assert stats["events"] == n_events > 400_000
    top = engine.top_of_book(PERP.name)
    assert top.bid is not None
    assert top.ask is not None
    assert top.bid.price_ticks < top.ask.price_ticks


def test_a_missing_diff_is_reported_as_a_sequence_break() -> None:
    with gzip.open(PAIR[0], "rb") as f:
        lines = f.readlines()
    snapshot_at = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    diffs_after = [
        i for i, line in enumerate(lines) if i > snapshot_at + 5 and b"depthUpdate" in line
    ]
    corrupted = lines[: diffs_after[10]] + lines[diffs_after[10] + 1 :]
    replay = BinanceReplay(0.1, 0.001)
    events = concat_events(list(replay.read_lines(corrupted)))
    assert replay.sequence_breaks == 1
    assert events.shape[0] > 0
    clean = BinanceReplay(0.1, 0.001)
    concat_events(list(clean.read_lines(lines)))
    assert clean.sequence_breaks == 0


def test_2023_files_have_microsecond_local_stamps_and_references() -> None:
    path = DATA / "btcusdt_20230404.dat.gz"
    replay = BinanceReplay(0.1, 0.001)
    events = concat_events(list(replay.read_files([path])))
    assert replay.microsecond_local_ts
    assert replay.sequence_breaks == 0
    engine = MatchingEngine([PERP])
    engine.feed(PERP.name, events)
    engine.advance_to(int(events["exch_ts_ns"][-1]))
    mark, index, rate = engine.reference(PERP.name)
    assert 27_000 < mark < 29_000
    assert 27_000 < index < 29_000
    assert abs(rate) < 0.01
    assert engine.stats(PERP.name)["crossed"] == 0
    assert int(events["flags"][-1]) & END_OF_MESSAGE_FLAG


def _gzip_copy(path: Path, lines: list[bytes]) -> Path:
    with gzip.open(path, "wb") as f:
        f.writelines(lines)
    return path


def _perp_head(tmp_path: Path) -> Path:
    """The first 100 lines of the COIN-M BTCUSD_PERP capture: its snapshot and a few diffs."""
    with gzip.open(DATA / "btcusd_perp_20240808.gz", "rb") as f:
        head = [f.readline() for _ in range(100)]
    assert any(b"lastUpdateId" in line for line in head)
    return _gzip_copy(tmp_path / "perp-head.gz", head)


def test_one_symbol_per_stream_the_others_skipped(tmp_path: Path) -> None:
    files = (_perp_head(tmp_path), PAIR[0])
    first = BinanceReplay(0.1, 0.001)  # no symbol given: the first one met
    concat_events(list(first.read_files(files)))
    assert first.symbol == "BTCUSD_PERP"
    assert first.snapshots == 1  # the BTCUSDT file's snapshot is not applied to its book
    assert first.other_symbols == ["BTCUSDT"]
    chosen = BinanceReplay(0.1, 0.001, symbol="btcusdt")
    events = concat_events(list(chosen.read_files(files)))
    assert chosen.snapshots == 1
    assert chosen.sequence_breaks == 0
    assert chosen.other_symbols == ["BTCUSD_PERP"]
    trades = events[events["kind"] == TRADE_EVENT]
    assert trades.shape[0] > 0
    assert (trades["price_ticks"] > 630_000).all()  # BTCUSDT at 64k; the perp traded near 61k


def test_a_snapshot_before_any_symbol_line_waits_to_know_whose_it_is(tmp_path: Path) -> None:
    with gzip.open(PAIR[0], "rb") as f:
        lines = f.readlines()
    at = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    moved = _gzip_copy(tmp_path / "snapshot-first.gz", [lines[at], *lines[:at], *lines[at + 1 :]])
    ours = BinanceReplay(0.1, 0.001, symbol="BTCUSDT")
    assert concat_events(list(ours.read_files([moved]))).shape[0] > 0
    assert (ours.snapshots, ours.sequence_breaks) == (1, 0)
    other = BinanceReplay(0.1, 0.001, symbol="ETHUSDT")
    assert concat_events(list(other.read_files([moved]))).shape[0] == 0
    assert other.snapshots == 0
    assert other.other_symbols == ["BTCUSDT"]


def test_files_out_of_time_order_are_refused() -> None:
    replay = BinanceReplay(0.1, 0.001)
    with pytest.raises(ReplayDataError, match=r"btcusdt_20230404\.dat\.gz: exchange time runs"):
        list(replay.read_files([PAIR[0], DATA / "btcusdt_20230404.dat.gz"]))
