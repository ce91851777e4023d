"""The writer's database side: one synchronous psycopg connection, driven from worker threads.

Everything here blocks and runs in `trio.to_thread.run_sync`, one call at a time. A flush
writes a batch with `COPY` in one transaction; execution rows whose batch fails go to the
journal before the call returns, so once a flush returns they are either committed or on disk.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import TYPE_CHECKING

import psycopg
from attrs import field, frozen
from psycopg import sql

from thalex_trio.store.dsn import mask_dsn
from thalex_trio.store.journal import read_journal
from thalex_trio.store.migrations import apply_migrations
from thalex_trio.store.rows import TABLES

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from psycopg.rows import TupleRow

    from thalex_trio.store.journal import Journal
    from thalex_trio.store.rows import Row
    from thalex_trio.store.sink import Pending

_log = logging.getLogger(__name__)

_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)
"""Errors of the connection or server (down, restarting, timed out): retry later."""


@frozen
class FlushOutcome:
    """What one flush did, for the writer's counters."""

    written: dict[str, int] = field(factory=dict)
    dropped_market: dict[str, int] = field(factory=dict)
    journaled: int = 0
    replayed: int = 0
    error: str | None = None


def _copy_sql(table: str, *, staging: bool = False) -> sql.Composed:
    name = f"stage_{table}" if staging else table
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in TABLES[table].columns)
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(name), columns)


class StoreConnection:
    """The one connection of a writer, with reconnect back-off and journal replay."""

    def __init__(
        self,
        dsn: str,
        journal: Journal,
        *,
        statement_timeout_s: float = 10.0,
        connect_timeout_s: int = 5,
        reconnect_backoff_s: float = 1.0,
    ) -> None:
        self._dsn = dsn
        self.journal = journal
        self._statement_timeout_ms = int(statement_timeout_s * 1000)
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_backoff_s = reconnect_backoff_s
        self._conn: psycopg.Connection[TupleRow] | None = None
        self._last_connect_attempt_s = -float("inf")
        self.journal_pending = not journal.is_empty()

    def __repr__(self) -> str:
        return f"StoreConnection({mask_dsn(self._dsn)!r})"

    # -- connection ------------------------------------------------------------------------

    def backend_pid(self) -> int | None:
        """The server process id of the open connection (tests kill it), or None."""
        return None if self._conn is None or self._conn.closed else self._conn.info.backend_pid

    def _connection(self) -> psycopg.Connection[TupleRow]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        now_s = time.monotonic()
        if now_s - self._last_connect_attempt_s < self._reconnect_backoff_s:
            raise psycopg.OperationalError("database unavailable (waiting to reconnect)")
        self._last_connect_attempt_s = now_s
        self._conn = psycopg.connect(
            self._dsn,
            connect_timeout=self._connect_timeout_s,
            options=f"-c statement_timeout={self._statement_timeout_ms}",
            application_name="thalex_trio store writer",
        )
        _log.info("store writer connected to %s", mask_dsn(self._dsn))
        return self._conn

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _discard_connection(self) -> None:
        # After a failure the session state is unknown: start the next attempt afresh.
        try:
            self.close()
        except psycopg.Error:
            self._conn = None

    # -- writing ---------------------------------------------------------------------------

    def write(self, pending: Pending) -> FlushOutcome:
        """Write `pending` (replaying the journal first); on failure journal its execution rows.

        Never raises for a database problem: the outcome says what happened. The rows were
        built by the sink, so this thread runs little Python (which would hold the GIL).
        """
        market = pending.market_rows
        execution = pending.execution_rows
        replayed = 0
        try:
            conn = self._connection()
            if self.journal_pending:
                replayed = self._replay(conn)
            if market or execution:
                self._copy_batch(conn, market, execution)
        except psycopg.Error as exc:
            error = mask_dsn(str(exc).strip() or type(exc).__name__)
            _log.warning("store flush failed (%s): journaling execution rows", error)
            self._discard_connection()
            journaled = self.journal_rows(execution)
            return FlushOutcome(
                dropped_market={t: len(r) for t, r in market.items()},
                journaled=journaled,
                replayed=replayed,
                error=error,
            )
        written = {t: len(r) for t, r in market.items()}
        written.update((t, len(r)) for t, r in execution.items())
        return FlushOutcome(written=written, replayed=replayed)

    def journal_rows(self, execution: Mapping[str, list[Row]]) -> int:
        """Append execution rows to the journal; the next flush replays them."""
        count = self.journal.append((t, row) for t, rows in execution.items() for row in rows)
        if count:
            self.journal_pending = True
        return count

    def _copy_batch(
        self,
        conn: psycopg.Connection[TupleRow],
        market: Mapping[str, list[Row]],
        execution: Mapping[str, list[Row]],
    ) -> None:
        try:
            with conn.transaction(), conn.cursor() as cur:
                for table, rows in (*market.items(), *execution.items()):
                    with cur.copy(_copy_sql(table)) as copy:
                        for row in rows:
                            copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            # Some execution rows are already stored (a batch whose commit we never saw
            # acknowledged, then journaled and replayed): insert the rest, skip the known ones.
            with conn.transaction(), conn.cursor() as cur:
                for table, rows in market.items():
                    with cur.copy(_copy_sql(table)) as copy:
                        for row in rows:
                            copy.write_row(row)
                self._insert_new(cur, execution)

    def _insert_new(self, cur: psycopg.Cursor[TupleRow], execution: Mapping[str, list[Row]]) -> int:
        """COPY into temp tables, then `INSERT ... ON CONFLICT DO NOTHING`; returns rows new."""
        inserted = 0
        for table, rows in execution.items():
            staging = sql.Identifier(f"stage_{table}")
            cur.execute(
                sql.SQL(
                    "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS)"
                    " ON COMMIT DELETE ROWS"
                ).format(staging, sql.Identifier(table))
            )
            with cur.copy(_copy_sql(table, staging=True)) as copy:
                for row in rows:
                    copy.write_row(row)
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in TABLES[table].columns)
            cur.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
                    sql.Identifier(table), columns, columns, staging
                )
            )
            inserted += max(cur.rowcount, 0)
        return inserted

    def _replay(self, conn: psycopg.Connection[TupleRow]) -> int:
        """Insert every journaled row not yet stored; a claim is deleted once committed."""
        replayed = 0
        for claimed in self.journal.claim():
            by_table = read_journal(claimed)
            unknown = set(by_table) - {t for t, spec in TABLES.items() if spec.execution}
            if unknown:
                raise ValueError(f"journal {claimed} names unknown tables {sorted(unknown)}")
            try:
                with conn.transaction(), conn.cursor() as cur:
                    replayed += self._insert_new(cur, by_table)
            except _TRANSIENT:
                raise
            except psycopg.Error as exc:
                # Rows the database refuses for good would block every later replay: set the
                # file aside for inspection instead of retrying it forever.
                quarantine = claimed.with_name(f"{claimed.name}.rejected")
                claimed.rename(quarantine)
                _log.error(
                    "journal %s rejected by the database (%s): kept as %s", claimed, exc, quarantine
                )
                continue
            self.journal.discard(claimed)
            _log.info("replayed %d journaled execution rows from %s", replayed, claimed.name)
        self.journal_pending = False
        return replayed


def migrate(dsn: str) -> list[int]:
    """Apply pending migrations on a short-lived connection; returns the versions applied."""
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        return apply_migrations(conn)


def journal_file_for(dsn: str, directory: Path) -> Path:
    """The journal path for `dsn`: one per database, so a replay never crosses databases."""
    digest = hashlib.sha256(dsn.encode()).hexdigest()[:12]
    return directory / f"execution-{digest}.jsonl"
