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
"""

from __future__ import annotations

import secrets
from typing import Protocol

import trio
from attrs import frozen

from thalex_trio.domain.events import (
    EventClass,
    IndexPrint,
    QuoteDecision,
    StoreEvent,
    TickerSnapshot,
    TopOfBookSnapshot,
    TradePrint,
)

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
    """Events taken from a sink in one go: market events, and execution events with their seq."""

    market: list[StoreEvent]
    execution: list[tuple[int, StoreEvent]]

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to write."""
        return not self.market and not self.execution


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
        self._market: list[StoreEvent] = []
        self._execution: list[tuple[int, StoreEvent]] = []
        self._seq = 0
        self._sample_tick = 0
        self._ready = trio.Event()
        self.skipped_market_rows: dict[str, int] = {}
        self.peak_execution_backlog = 0

    def emit(self, event: StoreEvent) -> None:
        """Buffer `event` (market data may be sampled or skipped); never blocks."""
        if event.KIND is EventClass.EXECUTION:
            self._seq += 1
            self._execution.append((self._seq, event))
            backlog = len(self._execution)
            self.peak_execution_backlog = max(backlog, self.peak_execution_backlog)
            if backlog >= self.batch_rows:
                self._ready.set()
            return
        queued = len(self._market)
        if queued >= self._high_water:
            self._sample_tick += 1
            if queued >= self.market_capacity or self._sample_tick % self.sample_every:
                table = MARKET_TABLE[type(event)]
                self.skipped_market_rows[table] = self.skipped_market_rows.get(table, 0) + 1
                return
        self._market.append(event)
        if queued + 1 >= self.batch_rows:
            self._ready.set()

    @property
    def backlog(self) -> int:
        """Events buffered and not yet taken by the writer."""
        return len(self._market) + len(self._execution)

    def take_nowait(self) -> Pending:
        """Everything buffered, leaving the sink empty."""
        pending = Pending(self._market, self._execution)
        self._market = []
        self._execution = []
        if self._ready.is_set():
            self._ready = trio.Event()
        return pending

    async def wait_batch_ready(self) -> None:
        """Return once a full batch is buffered."""
        await self._ready.wait()
