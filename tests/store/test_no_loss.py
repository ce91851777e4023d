"""No execution event is lost or duplicated across a killed connection and a server outage.

With the embedded server (the default) the server is really stopped and restarted; with an
external `THALEX_TRIO_TEST_DSN` the writer's backend is terminated twice instead (recorded in
the test's `db_outage` property).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import psycopg
import trio

from tests.store.events_factory import INSTRUMENT, T0_NS
from tests.store.helpers import execution_ids
from thalex_trio.domain.enums import Side
from thalex_trio.domain.events import OrderEvent, RiskEvent, RunId, TopOfBookSnapshot
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.market import BookLevel, TopOfBook
from thalex_trio.domain.order import OrderState
from thalex_trio.store.journal import Journal
from thalex_trio.store.writer import WriterConfig, open_store_writer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.postgres import TestServer
    from thalex_trio.store.writer import StoreWriter

RUN = RunId("run-no-loss")
BOOK = TopOfBookSnapshot(RUN, T0_NS, TopOfBook(INSTRUMENT, BookLevel(1, 1), BookLevel(2, 1), T0_NS))


def _kill_writer_mid_copy(admin_dsn: str, deadline_s: float) -> bool:
    """Terminate the writer's backend while it is running a COPY; True if one was caught."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        while time.monotonic() < deadline_s:
            row = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'thalex_trio store writer' AND state = 'active'"
                " AND query ILIKE 'COPY%'"
            ).fetchone()
            if row is not None and row[0]:
                return True
            time.sleep(0.0005)
    return False


def _kill_writer_backends(admin_dsn: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'thalex_trio store writer'"
        )


async def _produce(writer: StoreWriter, counter: list[int], stop: trio.Event) -> None:
    """A stand-in runtime: order events and risk events, with market data around them."""
    await trio.lowlevel.checkpoint()
    while not stop.is_set():
        await trio.sleep(0.001)
        n = counter[0]
        writer.sink.emit(
            OrderEvent(RUN, n, ClientOrderId(n), INSTRUMENT, Side.BUY, OrderState.OPEN, 1, 1, 0)
        )
        writer.sink.emit(RiskEvent(RUN, n, "position", 1.0, 2.0, "ok"))
        counter[0] += 1
        for _ in range(20):
            writer.sink.emit(BOOK)


async def _in_thread(fn: Callable[[], object]) -> None:
    await trio.to_thread.run_sync(fn)


async def test_every_execution_event_lands_exactly_once(
    pg_server: TestServer,
    db_dsn: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    config = WriterConfig(
        journal_path=tmp_path / "journal.jsonl",
        batch_rows=2_000,
        flush_age_s=0.05,
        reconnect_backoff_s=0.1,
        statement_timeout_s=5.0,
    )
    counter = [0]
    stop = trio.Event()
    embedded = pg_server.embedded
    async with open_store_writer(db_dsn, config) as writer, trio.open_nursery() as nursery:
        nursery.start_soon(_produce, writer, counter, stop)
        await trio.sleep(0.3)
        # A large burst makes the next COPY long enough to be killed while it runs.
        for _ in range(100_000):
            writer.sink.emit(BOOK)
        killed = await trio.to_thread.run_sync(
            _kill_writer_mid_copy, pg_server.admin_dsn, time.monotonic() + 5
        )
        assert killed, "the writer's COPY was never seen running"
        await trio.sleep(0.2)
        if embedded is not None:
            record_property("db_outage", "embedded server stopped and restarted")
            await _in_thread(embedded.stop)
            await trio.sleep(1.5)  # the writer keeps failing and journaling meanwhile
            await _in_thread(embedded.start)
        else:
            record_property("db_outage", "external server: backends terminated")
            for _ in range(2):
                await _in_thread(lambda: _kill_writer_backends(pg_server.admin_dsn))
                await trio.sleep(0.5)
        await trio.sleep(0.5)
        stop.set()
        with trio.fail_after(10):
            await writer.flush()
            while writer.connection.journal_pending:
                await trio.sleep(0.05)
                await writer.flush()
        stats = writer.stats
    emitted = counter[0]
    assert stats.failed_flushes > 0
    assert stats.journaled_rows > 0
    assert stats.replayed_rows > 0
    for table in ("order_events", "risk_events"):
        ids = execution_ids(db_dsn, table)
        assert len(ids) == len(set(ids)) == emitted, table
    assert Journal(config.journal_path).is_empty()
