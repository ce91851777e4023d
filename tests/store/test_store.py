"""The store against a real PostgreSQL: migrations, round trip, shutdown and breach flushes."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
import pytest
import trio

from tests.store.events_factory import INSTRUMENT, T0_NS, every_event
from tests.store.helpers import execution_ids, table_rows
from thalex_trio.domain.events import (
    EventClass,
    RiskEvent,
    RpcErrorEvent,
    RunId,
    RunStarted,
    StoreEvent,
    TopOfBookSnapshot,
    event_class,
)
from thalex_trio.domain.market import BookLevel, TopOfBook
from thalex_trio.store.journal import Journal
from thalex_trio.store.migrations import MIGRATIONS, apply_migrations
from thalex_trio.store.rows import TABLES, table_of
from thalex_trio.store.writer import WriterConfig, open_store_writer

if TYPE_CHECKING:
    from pathlib import Path

RUN = RunId("run-store")
_BOOK = TopOfBookSnapshot(
    RUN, T0_NS, TopOfBook(INSTRUMENT, BookLevel(1, 1), BookLevel(2, 1), T0_NS)
)
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
    columns = TABLES[table].column_names
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
        spec = table_of(event)
        row = spec.values(event, sink_id, seq)
        expected.setdefault(spec.name, []).append(_normalise(spec.name, row))
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


async def test_a_flush_cancelled_before_its_write_began_gives_its_rows_back(
    db_dsn: str, tmp_path: Path
) -> None:
    # A flush cancelled after it took the sink's rows but before `to_thread.run_sync` started
    # its thread (which checks for a cancel first): the rows go back to the sink, and the
    # shutdown writes them, instead of waiting out its deadline for a thread that never ran
    # and journaling them (or a later flush forgetting them).
    config = _config(tmp_path, flush_age_s=3600.0, shutdown_flush_deadline_s=2.0)
    async with open_store_writer(db_dsn, config) as writer, trio.open_nursery() as nursery:
        for i in range(10):
            writer.sink.emit(RiskEvent(RUN, i, "lag", 1.0, 2.0, "ok"))
        scope = trio.CancelScope()

        async def flush() -> None:
            with scope:
                await writer.flush()

        # The flush waits for the writer's lock; the lock is handed to it, and the cancel
        # comes before it runs again: it takes the rows, then `to_thread` refuses to start.
        lock = writer._flush_lock  # the only way to order the cancel exactly
        await lock.acquire()
        nursery.start_soon(flush)
        await trio.testing.wait_all_tasks_blocked()
        lock.release()
        scope.cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert scope.cancelled_caught
        assert writer.sink.backlog == 10  # back in the sink, for the next flush
    assert len(execution_ids(db_dsn, "risk_events")) == 10
    assert Journal(config.journal_path).is_empty()


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


async def test_text_copy_cannot_take_as_it_is_is_stored_escaped(
    db_dsn: str, tmp_path: Path
) -> None:
    hostile = "tab\there\nnew\\line\rcr \\N \x00nul \ud800 ünï €"
    stored = "tab\there\nnew\\line\rcr \\N \ufffdnul ? ünï €"
    config = '{"path": "C:\\\\x", "note": "a\\tb"}'
    events: list[StoreEvent] = [
        RunStarted(RunId(hostile), 1, "shadow", "v", config),
        RpcErrorEvent(RunId(hostile), 2, hostile, 3, hostile, None),
        RiskEvent(RunId("r"), 3, "inf", float("inf"), float("-inf"), "ok"),
        RiskEvent(RunId("r"), 4, "nan", float("nan"), 1e-300, "ok"),
    ]
    async with open_store_writer(db_dsn, _config(tmp_path)) as writer:
        for event in events:
            writer.sink.emit(event)
        await writer.flush()
        assert writer.stats.failed_flushes == 0
    with psycopg.connect(db_dsn) as conn:
        assert conn.execute("SELECT run_id, config::text FROM runs").fetchall() == [
            (stored, '{"note": "a\\tb", "path": "C:\\\\x"}')
        ]
        assert conn.execute("SELECT run_id, method, message FROM rpc_errors").fetchall() == [
            (stored, stored, stored)
        ]
        risks = conn.execute("SELECT value, threshold FROM risk_events ORDER BY local_ns")
        (inf, minus_inf), (nan, tiny) = risks.fetchall()
    assert (inf, minus_inf, tiny) == (float("inf"), float("-inf"), 1e-300)
    assert math.isnan(nan)


async def test_only_transactions_without_execution_rows_skip_the_wal_flush_wait(
    db_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    execute = psycopg.Cursor.execute

    def recording_execute(
        self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any
    ) -> psycopg.Cursor[Any]:
        statements.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording_execute)
    async with open_store_writer(db_dsn, _config(tmp_path)) as writer:
        writer.sink.emit(_BOOK)
        await writer.flush()
        market_only = list(statements)
        statements.clear()
        writer.sink.emit(_BOOK)
        writer.sink.emit(RiskEvent(RUN, 1, "lag", 1.0, 2.0, "ok"))
        await writer.flush()
        with_execution = list(statements)
    assert market_only.count("SET LOCAL synchronous_commit TO OFF") == 1
    assert "SET LOCAL synchronous_commit TO OFF" not in with_execution
    assert len(table_rows(db_dsn, "top_of_book")) == 2
    assert len(execution_ids(db_dsn, "risk_events")) == 1


async def test_a_journal_written_as_values_by_the_earlier_version_is_replayed(
    db_dsn: str, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    legacy = [
        ["risk_events", 9, seq, "run-legacy", seq, "lag", 1.5, 2.0, "ok"] for seq in (1, 2)
    ] + [["rpc_errors", 9, 3, "run-legacy", 3, "m", 4, "tab\there", None]]
    config.journal_path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in legacy))
    async with open_store_writer(db_dsn, config) as writer:
        await writer.flush()
        assert writer.stats.replayed_rows == 3
    assert table_rows(db_dsn, "risk_events") == [
        (9, 1, "run-legacy", 1, "lag", 1.5, 2.0, "ok"),
        (9, 2, "run-legacy", 2, "lag", 1.5, 2.0, "ok"),
    ]
    assert table_rows(db_dsn, "rpc_errors") == [(9, 3, "run-legacy", 3, "m", 4, "tab\there", None)]
    assert Journal(config.journal_path).is_empty()
