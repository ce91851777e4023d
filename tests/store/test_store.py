"""The store against a real PostgreSQL: migrations, round trip, shutdown and breach flushes."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import orjson
import psycopg
import pytest
import trio

from tests.store.events_factory import every_event
from tests.store.helpers import execution_ids, table_rows
from thalex_trio.domain.events import EventClass, RiskEvent, RunId, event_class
from thalex_trio.store.journal import Journal
from thalex_trio.store.migrations import MIGRATIONS, apply_migrations
from thalex_trio.store.rows import TABLES, execution_row
from thalex_trio.store.writer import WriterConfig, open_store_writer

if TYPE_CHECKING:
    from pathlib import Path

RUN = RunId("run-store")
_JSON_COLUMNS = {"config", "bids", "asks", "params", "goodness_of_fit"}


def _config(tmp_path: Path, **overrides: float) -> WriterConfig:
    # type-ignore reason: overrides are WriterConfig fields; attrs checks their types at runtime
    return WriterConfig(journal_path=tmp_path / "journal.jsonl", fsync=False, **overrides)  # type: ignore[arg-type]


def test_migrations_applied_twice_are_a_no_op(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        assert apply_migrations(conn) == []  # the fixture applied them already
        assert apply_migrations(conn) == []
        versions = conn.execute("SELECT version FROM schema_migrations").fetchall()
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
    assert versions == [(m.version,) for m in MIGRATIONS]
    assert set(TABLES) <= tables


def _normalise(table: str, row: tuple[object, ...]) -> tuple[object, ...]:
    columns = TABLES[table].columns
    return tuple(
        orjson.loads(str(v)) if c in _JSON_COLUMNS and v is not None else v
        for c, v in zip(columns, row, strict=True)
    )


async def test_round_trip_of_every_event_type(db_dsn: str, tmp_path: Path) -> None:
    samples = every_event(RUN)
    async with open_store_writer(db_dsn, _config(tmp_path)) as writer:
        for event in samples:
            writer.sink.emit(event)
        await writer.flush()
        sink_id = writer.sink.sink_id
        assert writer.stats.failed_flushes == 0
    seq = 0
    expected: dict[str, list[tuple[object, ...]]] = {}
    for event in samples:
        if event_class(event) is EventClass.EXECUTION:
            seq += 1
        table, row = execution_row(event, sink_id, seq)
        expected.setdefault(table, []).append(_normalise(table, row))
    assert set(expected) == set(TABLES)
    for table, rows in expected.items():
        stored = [_normalise(table, r) for r in table_rows(db_dsn, table)]
        assert sorted(stored, key=repr) == sorted(rows, key=repr), table


class Breach(Exception):
    """Stands in for the runtime's risk breach unwinding the task tree."""


async def test_breach_flushes_the_buffer_before_unwinding(db_dsn: str, tmp_path: Path) -> None:
    # A flush age far beyond the test: only the exit path can write these events.
    config = _config(tmp_path, flush_age_s=3600.0)
    events = [RiskEvent(RUN, i, "drawdown", float(i), 10.0, "breach") for i in range(500)]

    async def trade_until_breach() -> None:
        async with open_store_writer(db_dsn, config) as writer:
            for event in events:
                writer.sink.emit(event)
            raise Breach

    with pytest.raises(Breach):
        await trade_until_breach()
    assert len(execution_ids(db_dsn, "risk_events")) == 500
    assert Journal(config.journal_path).is_empty()


async def test_cancellation_flushes_everything_emitted_up_to_it(
    db_dsn: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, flush_age_s=3600.0)
    emitted = 0
    with trio.move_on_after(0.3):
        async with open_store_writer(db_dsn, config) as writer:
            while True:
                writer.sink.emit(RiskEvent(RUN, emitted, "lag", 1.0, 2.0, "ok"))
                emitted += 1
                await trio.sleep(0.001)
    assert emitted > 10
    assert len(execution_ids(db_dsn, "risk_events")) == emitted


async def test_shutdown_flush_past_its_deadline_journals_and_the_next_writer_replays(
    db_dsn: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, flush_age_s=3600.0, shutdown_flush_deadline_s=0.5)
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(db_dsn) as conn, conn.transaction():
            conn.execute("LOCK TABLE risk_events IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(10)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, hold_lock)
        await trio.to_thread.run_sync(locked.wait, 10)
        with trio.fail_after(5):  # the deadline bounds the exit, though the table stays locked
            async with open_store_writer(db_dsn, config) as writer:
                for i in range(100):
                    writer.sink.emit(RiskEvent(RUN, i, "lag", 1.0, 2.0, "ok"))
        release.set()
    assert not Journal(config.journal_path).is_empty()
    async with open_store_writer(db_dsn, _config(tmp_path)) as writer:
        await writer.flush()
    ids = execution_ids(db_dsn, "risk_events")
    assert len(ids) == len(set(ids)) == 100
    assert Journal(config.journal_path).is_empty()
