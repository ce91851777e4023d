"""Conflating holders (newest wins) and our local copy of the L2 book.

`Latest` is how the feed hands the newest state to the quote loop, and the quote loop hands the
newest desired ladder to the executor: a publisher never waits, a waiter always gets the newest
value and skips the ones it was too slow for. The arrival time of the market frame that caused
a value travels with it, for the tick-to-order latency (`tick_to_order.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

import trio
from attrs import frozen

from thalex_trio.domain.market import BookLevel, BookUpdate, TopOfBook

if TYPE_CHECKING:
    from collections.abc import Mapping

T = TypeVar("T")


@frozen
class Stamped(Generic[T]):
    """A value, its version, and `origin_ns` (the tick-to-order clock's reading when the oldest
    market frame behind it arrived). `published_ns` is the clock's reading when the value was
    published, where the publisher stamps it (the quote loop's ladders), else 0."""

    value: T
    version: int
    origin_ns: int
    published_ns: int = 0


class Latest(Generic[T]):
    """The newest value of something; waiters wake on a newer version."""

    def __init__(self) -> None:
        self._current: Stamped[T] | None = None
        self._changed = trio.Event()
        self._version = 0

    @property
    def current(self) -> Stamped[T] | None:
        """The newest value, if any was published."""
        return self._current

    def publish(self, value: T, origin_ns: int, published_ns: int = 0) -> None:
        """Replace the value (never blocks) and wake every waiter."""
        self._version += 1
        self._current = Stamped(value, self._version, origin_ns, published_ns)
        self._changed.set()

    def poke(self) -> None:
        """Wake waiters again on the same value (something it depends on changed)."""
        current = self._current
        if current is not None:
            self.publish(current.value, current.origin_ns, current.published_ns)

    async def wait_newer(self, version: int) -> Stamped[T]:
        """The newest value once its version is above `version`.

        Yields once either way: when a newer value is already there, with a plain checkpoint;
        otherwise by waiting for it (the waiter runs as soon as it is published, with no
        second scheduler pass on the hot path).
        """
        current = self._current
        if current is not None and current.version > version:
            await trio.lowlevel.checkpoint()
            return current
        while True:
            if self._changed.is_set():
                self._changed = trio.Event()
            await self._changed.wait()
            current = self._current
            if current is not None and current.version > version:
                return current


class Signal:
    """A level-triggered wake-up: `set` never blocks; `wait` returns once it was set since the
    last `wait` returned."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def set(self) -> None:
        """Wake the waiter (coalesces)."""
        self._event.set()

    async def wait(self) -> None:
        """Wait for a `set`, then re-arm."""
        await self._event.wait()
        self._event = trio.Event()


class LocalBook:
    """Our copy of one instrument's L2 book from `book.*` snapshots and deltas."""

    __slots__ = ("asks", "bids", "instrument_name", "time_ns")

    def __init__(self, instrument_name: str) -> None:
        self.instrument_name = instrument_name
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.time_ns = 0

    def apply(self, update: BookUpdate) -> None:
        """Apply a snapshot (replaces everything) or a delta (amount 0 removes a level)."""
        if update.is_snapshot:
            self.bids.clear()
            self.asks.clear()
        for side, levels in ((self.bids, update.bids), (self.asks, update.asks)):
            for level in levels:
                if level.amount_lots:
                    side[level.price_ticks] = level.amount_lots
                else:
                    side.pop(level.price_ticks, None)
        self.time_ns = update.time_ns

    def top(
        self, own_bids: Mapping[int, int] | None = None, own_asks: Mapping[int, int] | None = None
    ) -> TopOfBook:
        """Best bid and ask (a side is None when empty).

        `own_bids` / `own_asks` are our own lots per price that the book may hold: they are
        taken out first, so the top is the rest of the market's, and a level that holds
        nothing but ours is passed over.
        """
        return TopOfBook(
            self.instrument_name,
            _best(self.bids, own_bids, best_is_high=True),
            _best(self.asks, own_asks, best_is_high=False),
            self.time_ns,
        )


def _best(
    levels: dict[int, int], own: Mapping[int, int] | None, *, best_is_high: bool
) -> BookLevel | None:
    if not own:
        if not levels:
            return None
        price = max(levels) if best_is_high else min(levels)
        return BookLevel(price, levels[price])
    for price in sorted(levels, reverse=best_is_high):
        lots = levels[price] - own.get(price, 0)
        if lots > 0:
            return BookLevel(price, lots)
    return None
