"""Readers: every shared recording replays without a crossed book or an unreported sequence
break; our recordings and `.npz` arrays give the normalised events they should."""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pytest

from thalex_trio.backtest.readers import (
    SourceFormat,
    UnknownFormat,
    detect_format,
    open_event_stream,
)
from thalex_trio.backtest.readers.npz import (
    BUY_EVENT,
    EXCH_EVENT,
    SELL_EVENT,
    NpzReader,
    save_event_array,
    save_events,
)
from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    INDEX_EVENT,
    MARK_EVENT,
    TRADE_EVENT,
)

from .conftest import DATA

if TYPE_CHECKING:
    from pathlib import Path

PAIRS = [
    ("btcusdt_20240718.gz", "btcusdt_20240719.gz", 0.001),
    ("btcusdt_20230404.dat.gz", "btcusdt_20230405.dat.gz", 0.001),
    ("btcusd_perp_20240808.gz", "btcusd_perp_20240809.gz", 1.0),
]


@pytest.mark.parametrize(("first", "second", "lot"), PAIRS)
def test_shared_recording_replays_clean(first: str, second: str, lot: float) -> None:
    paths = [DATA / first, DATA / second]
    stream = open_event_stream(paths, instrument_name="X", tick_size=0.1, lot_size=lot)
    assert stream.format is SourceFormat.BINANCE
    inst = Instrument("X", InstrumentKind.PERPETUAL, "BTCUSD", 0.1, lot, lot)
    engine = MatchingEngine([inst])
    last_ns = 0
    total = 0
    for chunk in stream.chunks():
        assert (np.diff(chunk["exch_ts_ns"]) >= 0).all()
        assert int(chunk["exch_ts_ns"][0]) >= last_ns
        last_ns = int(chunk["exch_ts_ns"][-1])
        total += chunk.shape[0]
        engine.feed("X", chunk)
        engine.advance_to(last_ns)
    counters = stream.counters()
    assert counters["sequence_breaks"] == 0
    assert counters["snapshots"] == 1
    stats = engine.stats("X")
    assert stats["crossed"] == 0
    assert stats["events"] == total


def _recording(tmp_path: Path, lines: list[tuple[int, object]]) -> Path:
    path = tmp_path / "rec.jsonl.gz"
    with gzip.open(path, "ab") as out:
        out.writelines(f"{ts} {orjson.dumps(msg).decode()}\n".encode() for ts, msg in lines[:2])
    with gzip.open(path, "ab") as out:  # a second member, as after a restart
        out.writelines(f"{ts} {orjson.dumps(msg).decode()}\n".encode() for ts, msg in lines[2:])
    return path


def test_thalex_recording(tmp_path: Path) -> None:
    book = "book.BTC-PERPETUAL.none.10.100ms"
    lines = [
        (1_000_000_100_000_000, {"channel_name": book, "notification": {
            "bid_changes": [[100.0, 0.5, 0.5]], "ask_changes": [[101.0, 0.2, 0.2]],
            "trades": [[99.0, 1.0, "buy", 999.0, False]], "time": 1000.0}, "snapshot": True}),
        (1_000_100_200_000_000, {"channel_name": book, "notification": {
            "bid_changes": [[100.0, 0, 0]], "ask_changes": [],
            "trades": [[100.0, 0.5, "sell", 1000.1, False]], "time": 1000.1}}),
        (1_000_200_300_000_000, {"channel_name": "ticker.BTC-PERPETUAL.100ms", "notification": {
            "mark_price": 100.5, "mark_timestamp": 1000.2, "index": 100.4, "delta": 1,
            "funding_rate": 0.0001}}),
        (1_000_300_400_000_000, {"channel_name": "price_index.BTCUSD", "notification": {
            "index_name": "BTCUSD", "price": 100.3, "timestamp": 1000.3}}),
    ]  # fmt: skip
    path = _recording(tmp_path, lines)
    assert detect_format(path) is SourceFormat.THALEX
    stream = open_event_stream(
        [path], instrument_name="BTC-PERPETUAL", tick_size=0.5, lot_size=0.1, underlying="BTCUSD"
    )
    events = np.concatenate(list(stream.chunks()))
    kinds = events["kind"].tolist()
    assert kinds == [
        DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT, DEPTH_SNAPSHOT_EVENT,  # snapshot trades skipped
        DEPTH_EVENT, TRADE_EVENT, MARK_EVENT, INDEX_EVENT, 7, INDEX_EVENT,
    ]  # fmt: skip
    assert events["price_ticks"][:5].tolist() == [0, 200, 202, 200, 200]
    assert events["amount_lots"][:5].tolist() == [0, 5, 2, 0, 5]
    assert events["side"][4] == -1
    assert events["exch_ts_ns"][3] == 1000_100_000_000
    assert events["local_ts_ns"][3] == 1_000_100_200_000_000  # the recorded receive time
    assert (events["flags"] & END_OF_MESSAGE_FLAG).nonzero()[0].tolist() == [2, 4, 7, 8]
    assert stream.counters()["snapshots"] == 1


def test_truncated_recording_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    msg = {"channel_name": "price_index.BTCUSD", "notification": {"price": 1.0}}
    blob = gzip.compress(f"1 {orjson.dumps(msg).decode()}\n".encode() * 1000)
    path.write_bytes(blob[: len(blob) // 2])
    stream = open_event_stream([path], instrument_name="X", tick_size=0.1, lot_size=0.1)
    list(stream.chunks())
    assert stream.counters()["truncated_files"] == 1


def test_hftbacktest_npz(tmp_path: Path) -> None:
    dtype = np.dtype([("ev", "u8"), ("exch_ts", "i8"), ("local_ts", "i8"), ("px", "f8"),
                      ("qty", "f8"), ("order_id", "u8"), ("ival", "i8"), ("fval", "f8")],
                     align=True)  # fmt: skip
    raw = np.zeros(4, dtype=dtype)
    raw["ev"] = [
        EXCH_EVENT | BUY_EVENT | DEPTH_EVENT,
        EXCH_EVENT | SELL_EVENT | DEPTH_EVENT,
        EXCH_EVENT | SELL_EVENT | TRADE_EVENT,
        EXCH_EVENT | 5,  # a BBO event: skipped
    ]
    raw["exch_ts"] = [10, 10, 20, 30]
    raw["local_ts"] = [15, 15, 25, 35]
    raw["px"] = [100.0, 100.1, 100.0, 0.0]
    raw["qty"] = [0.002, 0.003, 0.001, 0.0]
    path = tmp_path / "hbt.npz"
    np.savez(path, data=raw)
    stream = open_event_stream([path], instrument_name="X", tick_size=0.1, lot_size=0.001)
    events = np.concatenate(list(stream.chunks()))
    assert events["kind"].tolist() == [DEPTH_EVENT, DEPTH_EVENT, TRADE_EVENT]
    assert events["side"].tolist() == [1, -1, -1]
    assert events["price_ticks"].tolist() == [1000, 1001, 1000]
    assert events["amount_lots"].tolist() == [2, 3, 1]
    assert events["exch_ts_ns"].tolist() == [10_000, 10_000, 20_000]  # microseconds in
    assert events["flags"].tolist() == [0, END_OF_MESSAGE_FLAG, END_OF_MESSAGE_FLAG]
    assert stream.counters()["skipped_events"] == 1


def test_own_npz_round_trip(tmp_path: Path) -> None:
    source = DATA / "btcusdt_20240718.gz"
    stream = open_event_stream([source], instrument_name="X", tick_size=0.1, lot_size=0.001)
    events = np.concatenate(list(stream.chunks()))[:5000]
    path = tmp_path / "cache.npz"
    save_events(path, events)
    again = np.concatenate(list(open_event_stream(
        [path], instrument_name="X", tick_size=0.1, lot_size=0.001).chunks()))  # fmt: skip
    assert again.dtype == events.dtype
    assert events.dtype.names is not None
    for name in events.dtype.names:
        assert np.array_equal(again[name], events[name])


def test_own_npy_is_read_in_chunks_with_the_feed_latency(tmp_path: Path) -> None:
    source = DATA / "btcusdt_20240718.gz"
    stream = open_event_stream([source], instrument_name="X", tick_size=0.1, lot_size=0.001)
    events = np.concatenate(list(stream.chunks()))[:5000]
    path = tmp_path / "cache.npy"
    save_event_array(path, events)
    assert detect_format(path) is SourceFormat.NPZ
    chunks = list(NpzReader(0.1, 0.001, chunk_events=1024).read_files([path]))
    assert [c.shape[0] for c in chunks] == [1024] * 4 + [904]
    assert all(c.dtype == events.dtype and c.flags.writeable for c in chunks)
    latency_ns = 7_000_000
    delayed = np.concatenate(list(open_event_stream(
        [path], instrument_name="X", tick_size=0.1, lot_size=0.001, feed_latency_ns=latency_ns
    ).chunks()))  # fmt: skip
    assert events.dtype.names is not None
    for name in events.dtype.names:
        expected = events["exch_ts_ns"] + latency_ns if name == "local_ts_ns" else events[name]
        assert np.array_equal(delayed[name], expected)


def test_truncated_npy_is_an_error(tmp_path: Path) -> None:
    source = DATA / "btcusdt_20240718.gz"
    stream = open_event_stream([source], instrument_name="X", tick_size=0.1, lot_size=0.001)
    events = np.concatenate(list(stream.chunks()))[:100]
    path = tmp_path / "cut.npy"
    save_event_array(path, events)
    path.write_bytes(path.read_bytes()[:-480])  # the last ten records
    with pytest.raises(ValueError, match="truncated"):
        list(NpzReader(0.1, 0.001).read_files([path]))


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text('1 {"hello": 1}\n')
    with pytest.raises(UnknownFormat):
        detect_format(path)
