"""`report` computes the §7 measures from exactly what was written."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import psycopg
import pytest
import trio

from tests.store.events_factory import INSTRUMENT, T0_NS
from thalex_trio.commands import report as report_command
from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.events import (
    FeeEvent,
    FillEvent,
    InstrumentInfo,
    QuoteDecision,
    RunId,
    RunStarted,
    RunStopped,
    StoreEvent,
    TopOfBookSnapshot,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import TradeId
from thalex_trio.domain.market import BookLevel, TopOfBook
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.store.report import load_run, summarise
from thalex_trio.store.writer import WriterConfig, open_store_writer

if TYPE_CHECKING:
    from pathlib import Path

RUN = RunId("run-report")
S = 10**9


def _book(t_s: float, bid: int, ask: int) -> TopOfBookSnapshot:
    t_ns = T0_NS + int(t_s * S)
    return TopOfBookSnapshot(
        RUN, t_ns, TopOfBook(INSTRUMENT, BookLevel(bid, 1), BookLevel(ask, 1), t_ns)
    )


def _fill(
    t_s: float, side: Side, price: int, lots: int, fee: float, fair: float | None
) -> FillEvent:
    t_ns = T0_NS + int(t_s * S)
    fill = Fill(TradeId(f"T{t_s}"), INSTRUMENT, side, price, lots, Liquidity.MAKER, fee, t_ns)
    return FillEvent(RUN, t_ns, fill, fair_ticks=fair, level=0)


def _run_events() -> list[StoreEvent]:
    ladder = QuoteLadder(INSTRUMENT, (Quote(Side.BUY, 999, 2),), (Quote(Side.SELL, 1003, 2),))
    return [
        RunStarted(RUN, T0_NS, "shadow", "0.1.0", '{"max_position_lots": 2}'),
        InstrumentInfo(RUN, T0_NS, INSTRUMENT, 0.5, 0.001),
        QuoteDecision(RUN, T0_NS, ladder, 1000.0, 1000.0),
        _book(0, 999, 1001),  # mid 1000
        _fill(1, Side.BUY, 999, 2, 0.01, 1000.0),  # capture +2 tick-lots
        _book(2, 1003, 1005),  # mid 1004
        _fill(3, Side.SELL, 1005, 1, 0.02, None),  # fair = mid 1004: capture +1
        # The first fill's fee as the trade history later states it: 0.01 - 0.015 = -0.005.
        FeeEvent(RUN, T0_NS + 4 * S, INSTRUMENT, TradeId("T1"), -0.015),
        _book(70, 1003, 1005),
        RunStopped(RUN, T0_NS + 100 * S, "signal", 0),
    ]


async def _write(dsn: str, tmp_path: Path) -> None:
    config = WriterConfig(journal_path=tmp_path / "journal.jsonl", fsync=False)
    async with open_store_writer(dsn, config) as writer:
        for event in _run_events():
            writer.sink.emit(event)


async def test_report_matches_the_events_written(db_dsn: str, tmp_path: Path) -> None:
    await _write(db_dsn, tmp_path)
    with psycopg.connect(db_dsn) as conn:
        summary = summarise(load_run(conn, RUN))
    assert summary.run.exit_reason == "signal"
    assert summary.duration_s == 100.0
    (inst,) = summary.instruments
    unit = 0.5 * 0.001
    assert (inst.fills_buy, inst.fills_sell, inst.lots_buy, inst.lots_sell) == (1, 1, 2, 1)
    assert inst.unit == "quote"
    assert inst.spread_capture == pytest.approx(3 * unit)
    # cash -2*999 + 1005 = -993; + 1 lot at the last mid 1004 = 11 tick-lots; 11 - 3 = 8.
    assert inst.inventory_pnl == pytest.approx(8 * unit)
    assert inst.fees == pytest.approx(0.015)
    assert inst.total_pnl == pytest.approx(11 * unit - 0.015)
    assert inst.final_position_lots == 1
    assert inst.max_abs_position_lots == 2
    # |q| = 0 for 1 s, 2 for 2 s, 1 for 97 s; at the limit (2 lots) 2 s of 100.
    assert inst.time_weighted_abs_position_lots == pytest.approx((2 * 2 + 97) / 100)
    assert inst.time_at_limit_fraction == pytest.approx(0.02)
    markouts = {(m.key, m.horizon_s): m.mean_ticks for m in inst.markouts}
    assert markouts[("buy", 1)] == pytest.approx(4.0)  # fair 1000 -> mid 1004
    assert markouts[("sell", 1)] == pytest.approx(0.0)
    assert markouts[("all", 60)] == pytest.approx(2.0)
    assert markouts[("level 0", 5)] == pytest.approx(2.0)
    assert inst.two_sided_fraction == pytest.approx(1.0)
    assert inst.mean_quoted_spread_ticks == pytest.approx(4.0)


def _args(dsn: str, run: str | None, png: Path | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    report_command.add_arguments(parser)
    argv = ["--dsn", dsn] + (["--run", run] if run else []) + (["--png", str(png)] if png else [])
    return parser.parse_args(argv)


def test_report_command_prints_the_table_and_chart(
    db_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Synchronous, like the CLI: the command runs its own trio loop.
    trio.run(_write, db_dsn, tmp_path)
    png = tmp_path / "run.png"
    assert report_command.run(_args(db_dsn, None, png)) == 0  # the latest run by default
    out = capsys.readouterr().out
    assert f"run {RUN}" in out
    assert "spread capture" in out
    assert "markouts" in out
    assert png.stat().st_size > 10_000


def test_report_command_rejects_an_unknown_run(
    db_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_command.run(_args(db_dsn, "no-such-run", None)) == 2
    assert "no run 'no-such-run'" in capsys.readouterr().err
