"""A terminal progress bar for long runs: only on a TTY, and only after a few seconds."""

from __future__ import annotations

import sys
import time
from typing import TextIO

SHOW_AFTER_S = 3.0
REDRAW_S = 0.25


class ProgressBar:
    """Events replayed and market time covered; call it as `progress(events, local_ns)`."""

    def __init__(self, start_ns: int, end_ns: int | None, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty()
        self._start_ns = start_ns
        self._end_ns = end_ns
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, events: int, local_ns: int) -> None:
        now = time.monotonic()
        if not self._enabled or now - self._started < SHOW_AFTER_S:
            return
        if now - self._last_draw < REDRAW_S:
            return
        self._last_draw = now
        covered_s = max(local_ns - self._start_ns, 0) / 1e9 if self._start_ns else 0.0
        rate = events / max(now - self._started, 1e-9)
        self._stream.write(
            f"\rbacktest: {events:,} events, {covered_s:,.0f} s of market, {rate:,.0f} ev/s"
        )
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (if one was drawn)."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
