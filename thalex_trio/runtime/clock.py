"""The one wall clock of a run, injected so tests and backtests stay deterministic.

Deadlines never use it (they use `trio.current_time()`); it stamps events, drives the strategy's
notion of now and the risk evaluator's windows.
"""

from __future__ import annotations

import time
from typing import Protocol

import trio


class WallClock(Protocol):
    """Nanoseconds since the epoch."""

    def now_ns(self) -> int:
        """The current wall-clock time in ns."""


class SystemClock:
    """The machine's clock."""

    def now_ns(self) -> int:
        """`time.time_ns()`."""
        return time.time_ns()


class TrioWallClock:
    """Wall time that advances with Trio's clock (virtual under `MockClock`): an origin taken
    from the real clock at construction plus Trio time elapsed since."""

    def __init__(self, origin_ns: int | None = None) -> None:
        self._origin_ns = time.time_ns() if origin_ns is None else origin_ns
        self._trio_origin_s = trio.current_time()

    def now_ns(self) -> int:
        """Origin + Trio time elapsed, in ns."""
        return self._origin_ns + round((trio.current_time() - self._trio_origin_s) * 1e9)
