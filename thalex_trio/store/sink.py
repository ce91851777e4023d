"""The producer side of the store: a non-blocking `emit` the quote loop can call freely.

`StoreSink` buffers events in memory for the writer task, in two queues with different rules:

* market data goes to a bounded queue. Past a high-water mark only one event in
  `sample_every` is kept; at capacity every new one is skipped. Both are counted per table in
  `skipped_market_rows`, so a report can tell how much was sampled away.
* execution events are never dropped, so their queue is unbounded but tracked
  (`peak_execution_backlog`). This is deliberate: spilling to the journal from `emit` would
  put disk I/O (and an fsync) on the quote loop, and blocking would stall it; execution events
  come at the rate of our own order traffic, which the exchange rate-limits to hundreds per
  second, so even a writer stuck for a minute holds only megabytes. The writer moves them to
  the database or, when that fails, to the journal, from a worker thread.

Each execution event gets `seq`, unique within the sink, and the sink a random 63-bit
`sink_id`; `(sink_id, seq)` is the event's id in the database and in the journal.

`emit` is O(1): one dict probe for the event's table, its COPY line built by one f-string
(rows.py), one list append. Formatting is the store's main Python work, and Python work in
the writer's worker thread holds the GIL the event loop needs: done here it costs the emitter
a few microseconds per event, instead of stalling the loop for a switch interval each time it
wants the GIL back while a batch is formatted. A line is one str, which the garbage collector
never tracks, so a large backlog costs the collector nothing either.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Protocol

import trio
from attrs import field, frozen

from thalex_trio.store.rows import ROUTES, TABLES, line_seq

if TYPE_CHECKING:
    from thalex_trio.domain.events import StoreEvent


class EventSink(Protocol):
    """Where the runtime's persistence tap sends events. `emit` never blocks nor awaits."""

    def emit(self, event: StoreEvent) -> None:
        """Hand `event` over for recording; returns at once."""


class NullSink:
    """The sink when persistence is disabled: forgets everything."""

    def emit(self, event: StoreEvent) -> None:
        """Discard `event`."""


@frozen
class Pending:
    """COPY lines taken from a sink in one go, by table, in emit order within each table."""

    lines: dict[str, list[str]] = field(factory=dict)

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to write."""
        return not self.lines

    @property
    def market_lines(self) -> dict[str, list[str]]:
        """The market tables' lines (may be sampled or dropped)."""
        return {t: lines for t, lines in self.lines.items() if not TABLES[t].execution}

    @property
    def execution_lines(self) -> dict[str, list[str]]:
        """The execution tables' lines (never dropped)."""
        return {t: lines for t, lines in self.lines.items() if TABLES[t].execution}

    @property
    def market(self) -> list[str]:
        """Every market line, all tables together."""
        return [line for lines in self.market_lines.values() for line in lines]

    @property
    def execution(self) -> list[tuple[int, str]]:
        """Every execution line with its seq, in seq order."""
        pairs = [
            (line_seq(line), line) for lines in self.execution_lines.values() for line in lines
        ]
        return sorted(pairs, key=lambda pair: pair[0])


class StoreSink:
    """The in-memory buffer between `emit` and the writer task (see the module docstring)."""

    def __init__(
        self,
        *,
        market_capacity: int = 200_000,
        batch_rows: int = 5_000,
        sample_every: int = 10,
        high_water: float = 0.5,
    ) -> None:
        if market_capacity <= 0 or batch_rows <= 0 or sample_every <= 0:
            raise ValueError("market_capacity, batch_rows and sample_every must be > 0")
        self.sink_id = secrets.randbits(63)
        self._sink_id_text = str(self.sink_id)  # formatted once: see rows.LineBuilder
        self.market_capacity = market_capacity
        self.batch_rows = batch_rows
        self.sample_every = sample_every
        self._high_water = max(int(market_capacity * high_water), 1)
        self._lines: dict[str, list[str]] = {}
        self._market_count = 0
        self._execution_count = 0
        self._seq = 0
        self._sample_tick = 0
        self._ready = trio.Event()
        self.skipped_market_rows: dict[str, int] = {}
        self.peak_execution_backlog = 0

    def emit(self, event: StoreEvent) -> None:
        """Buffer `event` (market data may be sampled or skipped); never blocks."""
        table, execution, build = ROUTES[type(event)]
        if execution:
            self._seq = seq = self._seq + 1
            line = build(event, self._sink_id_text, seq)
            self._execution_count = backlog = self._execution_count + 1
            if backlog > self.peak_execution_backlog:
                self.peak_execution_backlog = backlog
        else:
            queued = self._market_count
            if queued >= self._high_water:
                self._sample_tick += 1
                if queued >= self.market_capacity or self._sample_tick % self.sample_every:
                    self.skipped_market_rows[table] = self.skipped_market_rows.get(table, 0) + 1
                    return
            line = build(event, 0, 0)
            self._market_count = backlog = queued + 1
        lines = self._lines.get(table)
        if lines is None:
            self._lines[table] = [line]
        else:
            lines.append(line)
        if backlog >= self.batch_rows:
            self._ready.set()

    @property
    def backlog(self) -> int:
        """Events buffered and not yet taken by the writer."""
        return self._market_count + self._execution_count

    def take_nowait(self) -> Pending:
        """Everything buffered, leaving the sink empty."""
        pending = Pending(self._lines)
        self._lines = {}
        self._market_count = 0
        self._execution_count = 0
        if self._ready.is_set():
            self._ready = trio.Event()
        return pending

    def put_back(self, pending: Pending) -> None:
        """Return lines taken by `take_nowait` that were not written (a flush cancelled before
        its write began), ahead of anything emitted since."""
        for table, lines in pending.lines.items():
            self._lines[table] = lines + self._lines.get(table, [])
            if TABLES[table].execution:
                self._execution_count += len(lines)
            else:
                self._market_count += len(lines)
        if max(self._market_count, self._execution_count) >= self.batch_rows:
            self._ready.set()

    async def wait_batch_ready(self) -> None:
        """Return once a full batch is buffered."""
        await self._ready.wait()
