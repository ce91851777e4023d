"""The persistence task: drains a `StoreSink` into PostgreSQL in batches, off the event loop.

`open_store_writer` owns the sink, the connection and the writer task. The task flushes when a
batch is full or `flush_age_s` has passed, each flush one `trio.to_thread.run_sync` call, so the
quote loop never waits on the database. On exit (normal, cancelled by SIGINT or a risk breach)
the remaining buffer is flushed in a shielded scope bounded by `shutdown_flush_deadline_s`;
whatever the database cannot take by then goes to the journal, never lost.
"""

from __future__ import annotations

import logging
import sys
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import trio
from attrs import field, frozen, mutable

from thalex_trio.store.db import StoreConnection
from thalex_trio.store.journal import Journal
from thalex_trio.store.sink import StoreSink

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from thalex_trio.store.db import FlushOutcome
    from thalex_trio.store.sink import Pending

_log = logging.getLogger(__name__)


@frozen
class WriterConfig:
    """Batching, buffering and deadline settings of the writer."""

    journal_path: Path
    batch_rows: int = 5_000
    flush_age_s: float = 0.25
    market_capacity: int = 200_000
    sample_every: int = 10
    shutdown_flush_deadline_s: float = 5.0
    statement_timeout_s: float = 10.0
    reconnect_backoff_s: float = 1.0
    fsync: bool = True
    gil_switch_interval_s: float | None = 0.0005
    """While the writer runs, CPython's GIL hand-off interval (default 5 ms): the worker thread
    holds the GIL while psycopg's Python sets up and ends each COPY, and the event loop waiting
    for it must get it back within a fraction of a quote-loop tick. None leaves the
    interpreter's setting alone."""


@mutable
class WriterStats:
    """Running counters of a writer (read them; the writer updates them)."""

    written_rows: dict[str, int] = field(factory=dict)
    dropped_market_rows: dict[str, int] = field(factory=dict)
    journaled_rows: int = 0
    replayed_rows: int = 0
    flushes: int = 0
    failed_flushes: int = 0
    last_error: str | None = None

    def absorb(self, outcome: FlushOutcome) -> None:
        """Add one flush's outcome."""
        self.flushes += 1
        for table, count in outcome.written.items():
            self.written_rows[table] = self.written_rows.get(table, 0) + count
        for table, count in outcome.dropped_market.items():
            self.dropped_market_rows[table] = self.dropped_market_rows.get(table, 0) + count
        self.journaled_rows += outcome.journaled
        self.replayed_rows += outcome.replayed
        if outcome.error is not None:
            self.failed_flushes += 1
            self.last_error = outcome.error


JOB_WAIT_S = 60.0
"""Upper bound for a helper thread waiting on an abandoned write (the deadline is the caller's)."""


class _WriteJob:
    """One flush's write, run in a worker thread; `done` tells when it finished.

    A flush cancelled at `to_thread.run_sync`'s first step never starts the thread, and its
    rows are already out of the sink: `take_back` returns them to the flush, and once taken
    back the job never runs (the claim makes that race-free).
    """

    def __init__(self, connection: StoreConnection, pending: Pending) -> None:
        self.connection = connection
        self.pending = pending
        self.outcome: FlushOutcome | None = None
        self.done = threading.Event()
        self._claim = threading.Lock()

    def run(self) -> None:
        if not self._claim.acquire(blocking=False):
            return  # taken back before this thread began
        try:
            self.outcome = self.connection.write(self.pending)
        finally:
            self.done.set()

    def take_back(self) -> bool:
        """True when the write had not begun: it never will, and `pending` is the caller's."""
        return self._claim.acquire(blocking=False)


class StoreWriter:
    """A running writer: `sink` takes events, `flush()` forces a write, `stats` counts."""

    def __init__(self, connection: StoreConnection, config: WriterConfig) -> None:
        self.config = config
        self.sink = StoreSink(
            market_capacity=config.market_capacity,
            batch_rows=config.batch_rows,
            sample_every=config.sample_every,
        )
        self.stats = WriterStats()
        self.connection = connection
        self._flush_lock = trio.Lock()
        self._job: _WriteJob | None = None

    @property
    def idle(self) -> bool:
        """True when no worker thread is writing (none was abandoned mid-write)."""
        return self._job is None

    @property
    def skipped_market_rows(self) -> dict[str, int]:
        """Market rows not written, by table: sampled away by the sink or lost with a batch."""
        merged = dict(self.sink.skipped_market_rows)
        for table, count in self.stats.dropped_market_rows.items():
            merged[table] = merged.get(table, 0) + count
        return merged

    async def flush(self) -> None:
        """Write everything buffered so far (and replay the journal); returns when done.

        Callers bound it with their own deadline. If cancelled mid-write the worker thread is
        abandoned, still writing; `drain` waits for it (within the shutdown deadline) before
        deciding whether its batch needs the journal. If cancelled before the write began, the
        rows go back to the sink.
        """
        async with self._flush_lock:
            pending = self.sink.take_nowait()
            if pending.is_empty and not self.connection.journal_pending:
                await trio.lowlevel.checkpoint()
                return
            job = _WriteJob(self.connection, pending)
            self._job = job
            try:
                await trio.to_thread.run_sync(job.run, abandon_on_cancel=True)
            except trio.Cancelled:
                # Cancelled before its thread began (`to_thread` checks first): nothing would
                # write these rows and the next flush would forget the job, so they go back.
                if job.take_back():
                    self._job = None
                    self.sink.put_back(pending)
                raise
            self._settle(job)

    def _settle(self, job: _WriteJob) -> None:
        assert job.outcome is not None  # called only once the job has finished
        self.stats.absorb(job.outcome)
        if self._job is job:
            self._job = None

    async def run(self) -> None:
        """Flush whenever a batch is full or `flush_age_s` has passed; runs until cancelled."""
        while True:
            with trio.move_on_after(self.config.flush_age_s):
                await self.sink.wait_batch_ready()
            await self.flush()

    async def drain(self) -> None:
        """Shutdown: let an interrupted write finish, then write what is left.

        The caller shields it and sets the deadline; `journal_leftovers_nowait` then handles
        whatever the deadline cut off.
        """
        job = self._job
        if job is not None:
            await trio.to_thread.run_sync(job.done.wait, JOB_WAIT_S, abandon_on_cancel=True)
            if not job.done.is_set():
                return
            self._settle(job)
        await self.flush()

    def journal_leftovers_nowait(self) -> None:
        """Shutdown, after `drain`: journal whatever is still in memory.

        That is a write the deadline cut off (its thread may yet commit it: replay skips
        duplicates) and anything emitted since. Blocking file I/O on the event loop, on
        purpose: it runs only while shutting down, when there is no quote loop left to delay.
        """
        job, self._job = self._job, None
        for pending in (None if job is None else job.pending, self.sink.take_nowait()):
            if pending is not None:
                self._journal_nowait(pending)

    def _journal_nowait(self, pending: Pending) -> None:
        self.stats.journaled_rows += self.connection.journal_rows(pending.execution_lines)
        for table, lines in pending.market_lines.items():
            dropped = self.stats.dropped_market_rows
            dropped[table] = dropped.get(table, 0) + len(lines)


def _sole_exception(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception in `group` (it keeps its own traceback), or None when there are more."""
    return group.exceptions[0] if len(group.exceptions) == 1 else None


@asynccontextmanager
async def open_store_writer(dsn: str, config: WriterConfig) -> AsyncIterator[StoreWriter]:
    """Run a writer into the (migrated) database at `dsn` for the duration of the block.

    On exit the buffer is flushed within `config.shutdown_flush_deadline_s`, even when the
    block is being cancelled; execution events that miss the database are journaled.
    """
    connection = StoreConnection(
        dsn,
        Journal(config.journal_path, fsync=config.fsync),
        statement_timeout_s=config.statement_timeout_s,
        reconnect_backoff_s=config.reconnect_backoff_s,
    )
    writer = StoreWriter(connection, config)
    previous_interval_s = sys.getswitchinterval()
    if config.gil_switch_interval_s is not None:
        sys.setswitchinterval(min(previous_interval_s, config.gil_switch_interval_s))
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer.run)
            try:
                yield writer
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The nursery wraps the block's own exception (a risk breach, say); the caller should
        # see it as raised, as with any context manager.
        sole = _sole_exception(group)
        if sole is None:
            raise
        raise sole from None
    finally:
        with trio.CancelScope(shield=True) as scope:
            scope.deadline = trio.current_time() + config.shutdown_flush_deadline_s
            await writer.drain()
        if scope.cancelled_caught:
            _log.warning("store shutdown flush hit its deadline: journaling the rest")
        # An abandoned write still owns the connection: leave it to that thread (closing it
        # under the thread would fail a write that may yet succeed).
        idle = writer.idle
        writer.journal_leftovers_nowait()
        if idle:
            connection.close()
        sys.setswitchinterval(previous_interval_s)
