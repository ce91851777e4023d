"""The writer's database side: one synchronous psycopg connection, driven from worker threads.

Everything here blocks and runs in `trio.to_thread.run_sync`, one call at a time. A flush
writes a batch with `COPY` in one transaction; execution rows whose batch fails go to the
journal before the call returns, so once a flush returns they are either committed or on disk.

The sink built every row's COPY line at emit, so a flush runs little Python (which would hold
the GIL the event loop needs): it joins lines into chunks and hands the bytes to libpq, and
then waits on the socket with the GIL released while the server stores them. A transaction
that carries no execution row commits with `synchronous_commit` off: market data may be lost
in a server crash in the fraction of a second before its WAL is flushed, which costs a few
samples of a stream that is sampled anyway; a transaction with execution rows always waits
for its WAL flush, because once the commit is acknowledged the rows leave memory and the
journal.
"""

from __future__ import annotations

import functools
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


COPY_CHUNK_LINES = 500
"""Lines joined and sent per `copy.write`: about 50 kB, tens of microseconds of C work
holding the GIL, so the event loop gets it back between two chunks."""


@functools.cache
def _copy_sql(table: str, *, staging: bool = False) -> bytes:
    """The COPY statement of `table`, rendered once: composing it anew for each flush was a
    good part of the Python the worker thread runs per batch."""
    name = f"stage_{table}" if staging else table
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in TABLES[table].column_names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(name), columns)
    return statement.as_bytes()


def _copy_lines(
    cur: psycopg.Cursor[TupleRow], table: str, lines: list[str], *, staging: bool = False
) -> None:
    """COPY `lines` (COPY text format, newline-terminated) into `table`."""
    with cur.copy(_copy_sql(table, staging=staging)) as copy:
        for start in range(0, len(lines), COPY_CHUNK_LINES):
            copy.write("".join(lines[start : start + COPY_CHUNK_LINES]).encode())


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

        Never raises for a database problem: the outcome says what happened.
        """
        market = pending.market_lines
        execution = pending.execution_lines
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

    def journal_rows(self, execution: Mapping[str, list[str]]) -> int:
        """Append execution rows (COPY lines) to the journal; the next flush replays them."""
        count = self.journal.append((t, line) for t, lines in execution.items() for line in lines)
        if count:
            self.journal_pending = True
        return count

    def _copy_batch(
        self,
        conn: psycopg.Connection[TupleRow],
        market: Mapping[str, list[str]],
        execution: Mapping[str, list[str]],
    ) -> None:
        try:
            with conn.transaction(), conn.cursor() as cur:
                if not execution:
                    cur.execute("SET LOCAL synchronous_commit TO OFF")
                for table, lines in (*market.items(), *execution.items()):
                    _copy_lines(cur, table, lines)
        except psycopg.errors.UniqueViolation:
            # Some execution rows are already stored (a batch whose commit we never saw
            # acknowledged, then journaled and replayed): insert the rest, skip the known ones.
            with conn.transaction(), conn.cursor() as cur:
                for table, lines in market.items():
                    _copy_lines(cur, table, lines)
                self._insert_new(cur, execution)

    def _insert_new(self, cur: psycopg.Cursor[TupleRow], execution: Mapping[str, list[str]]) -> int:
        """COPY into temp tables, then `INSERT ... ON CONFLICT DO NOTHING`; returns rows new."""
        inserted = 0
        for table, lines in execution.items():
            staging = sql.Identifier(f"stage_{table}")
            cur.execute(
                sql.SQL(
                    "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS)"
                    " ON COMMIT DELETE ROWS"
                ).format(staging, sql.Identifier(table))
            )
            _copy_lines(cur, table, lines, staging=True)
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in TABLES[table].column_names)
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
