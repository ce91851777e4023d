"""A stalled database never delays the quote loop, and skipped market data is counted.

Real time, because the database is real: the bound on the loop's lateness is behavioural (the
loop must never wait on the database), far above scheduling noise and far below the stall.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import psycopg
import trio

from tests.store.events_factory import INSTRUMENT, T0_NS
from tests.store.helpers import execution_ids
from thalex_trio.domain.events import RiskEvent, RunId, TopOfBookSnapshot
from thalex_trio.domain.market import BookLevel, TopOfBook
from thalex_trio.store.sink import EventSink, NullSink
from thalex_trio.store.writer import WriterConfig, open_store_writer

if TYPE_CHECKING:
    from pathlib import Path

RUN = RunId("run-back-pressure")
BOOK = TopOfBookSnapshot(RUN, T0_NS, TopOfBook(INSTRUMENT, BookLevel(1, 1), BookLevel(2, 1), T0_NS))
PERIOD_S = 0.001
STALL_S = 2.0
MAX_LATENESS_S = 0.05


async def _quote_loop(sink: EventSink, duration_s: float) -> tuple[float, int, int]:
    """Tick every PERIOD_S emitting 10 books and, every 10th tick, one risk event; returns
    (max lateness of a tick in s, market events emitted, execution events emitted)."""
    await trio.lowlevel.checkpoint()
    start = trio.current_time()
    worst_s, ticks, executions = 0.0, 0, 0
    while (due := start + ticks * PERIOD_S) < start + duration_s:
        await trio.sleep_until(due)
        worst_s = max(worst_s, trio.current_time() - due)
        for _ in range(10):
            sink.emit(BOOK)
        if ticks % 10 == 0:
            sink.emit(RiskEvent(RUN, ticks, "lag", 0.0, 1.0, "ok"))
            executions += 1
        ticks += 1
    return worst_s, ticks * 10, executions


async def test_a_stalled_database_never_delays_the_quote_loop(db_dsn: str, tmp_path: Path) -> None:
    baseline_s, _, _ = await _quote_loop(NullSink(), 0.5)

    locked, release = threading.Event(), threading.Event()

    def stall_database() -> None:
        with psycopg.connect(db_dsn) as conn, conn.transaction():
            conn.execute("LOCK TABLE top_of_book, risk_events IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(STALL_S)

    config = WriterConfig(
        journal_path=tmp_path / "journal.jsonl",
        batch_rows=1_000,
        flush_age_s=0.05,
        market_capacity=5_000,
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, stall_database)
        await trio.to_thread.run_sync(locked.wait, 10)
        async with open_store_writer(db_dsn, config) as writer:
            worst_s, market, executions = await _quote_loop(writer.sink, STALL_S + 1.0)
        skipped = writer.skipped_market_rows.get("top_of_book", 0)
        written = writer.stats.written_rows.get("top_of_book", 0)
    print(f"max tick lateness: store off {baseline_s * 1e3:.2f} ms, on {worst_s * 1e3:.2f} ms")
    assert worst_s < MAX_LATENESS_S
    assert skipped > 0
    assert written + skipped == market
    assert len(execution_ids(db_dsn, "risk_events")) == executions
