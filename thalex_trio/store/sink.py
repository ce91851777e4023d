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

`emit` turns the event into its row at once (a dict lookup and a tuple, about a microsecond)
and keeps only the row. Building rows is the writer's main Python work, and Python work in
the worker thread holds the GIL the event loop needs: done here it costs the emitter a fixed,
small amount per event instead of stalling the loop unpredictably for the length of a batch.
Keeping rows, not events, also keeps the buffer out of the garbage collector's way: a tuple of
numbers and strings is untracked at its first collection, an event object never is.
"""

from __future__ import annotations

import secrets
from typing import Protocol

import trio
from attrs import field, frozen

from thalex_trio.domain.events import (
    EventClass,
    IndexPrint,
    QuoteDecision,
    StoreEvent,
    TickerSnapshot,
    TopOfBookSnapshot,
    TradePrint,
)
from thalex_trio.store.rows import EXECUTION_ROWS, MARKET_ROWS, TABLES, Row

MARKET_TABLE: dict[type, str] = {
    TopOfBookSnapshot: "top_of_book",
    TickerSnapshot: "tickers",
    TradePrint: "trades",
    IndexPrint: "index_prices",
    QuoteDecision: "quote_decisions",
}
"""Destination table of each market event type (for the skip counters)."""


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
    """Rows taken from a sink in one go, by table, in emit order within each table."""

    rows: dict[str, list[Row]] = field(factory=dict)

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to write."""
        return not self.rows

    @property
    def market_rows(self) -> dict[str, list[Row]]:
        """The market tables' rows (may be sampled or dropped)."""
        return {t: rows for t, rows in self.rows.items() if not TABLES[t].execution}

    @property
    def execution_rows(self) -> dict[str, list[Row]]:
        """The execution tables' rows (never dropped)."""
        return {t: rows for t, rows in self.rows.items() if TABLES[t].execution}

    @property
    def market(self) -> list[Row]:
        """Every market row, all tables together."""
        return [row for rows in self.market_rows.values() for row in rows]

    @property
    def execution(self) -> list[tuple[int, Row]]:
        """Every execution row with its seq, in seq order."""
        pairs = [(int(row[1] or 0), row) for rows in self.execution_rows.values() for row in rows]
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
        self.market_capacity = market_capacity
        self.batch_rows = batch_rows
        self.sample_every = sample_every
        self._high_water = max(int(market_capacity * high_water), 1)
        self._rows: dict[str, list[Row]] = {}
        self._market_count = 0
        self._execution_count = 0
        self._seq = 0
        self._sample_tick = 0
        self._ready = trio.Event()
        self.skipped_market_rows: dict[str, int] = {}
        self.peak_execution_backlog = 0

    def emit(self, event: StoreEvent) -> None:
        """Buffer `event` (market data may be sampled or skipped); never blocks."""
        if event.KIND is EventClass.EXECUTION:
            self._seq += 1
            table, build_execution = EXECUTION_ROWS[type(event)]
            row = build_execution(event, self.sink_id, self._seq)
            rows = self._rows.get(table)
            if rows is None:
                rows = self._rows[table] = []
            rows.append(row)
            self._execution_count = backlog = self._execution_count + 1
            self.peak_execution_backlog = max(backlog, self.peak_execution_backlog)
            if backlog >= self.batch_rows:
                self._ready.set()
            return
        queued = self._market_count
        if queued >= self._high_water:
            self._sample_tick += 1
            if queued >= self.market_capacity or self._sample_tick % self.sample_every:
                table = MARKET_TABLE[type(event)]
                self.skipped_market_rows[table] = self.skipped_market_rows.get(table, 0) + 1
                return
        table, build_market = MARKET_ROWS[type(event)]
        row = build_market(event)
        rows = self._rows.get(table)
        if rows is None:
            rows = self._rows[table] = []
        rows.append(row)
        self._market_count = queued + 1
        if queued + 1 >= self.batch_rows:
            self._ready.set()

    @property
    def backlog(self) -> int:
        """Events buffered and not yet taken by the writer."""
        return self._market_count + self._execution_count

    def take_nowait(self) -> Pending:
        """Everything buffered, leaving the sink empty."""
        pending = Pending(self._rows)
        self._rows = {}
        self._market_count = 0
        self._execution_count = 0
        if self._ready.is_set():
            self._ready = trio.Event()
        return pending

    async def wait_batch_ready(self) -> None:
        """Return once a full batch is buffered."""
        await self._ready.wait()
