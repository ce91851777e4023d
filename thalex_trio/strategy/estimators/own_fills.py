"""Arrival intensity of our own quotes by maximum likelihood (MODELS.md §4).

The quoter reports quoting segments per side: the depth of our best quote from fair, how long
it stood and how many fills it got. Unlike the depth-counting fit on public trades, this sees
our real queue position and who picks us off. Only the newest segments are kept; they are
kept as a ring of tuples and as float columns the fit reads without copying.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from thalex_trio.kernels.intensity import own_fill_intensity_mle
from thalex_trio.strategy.estimators.market import IntensityFit

if TYPE_CHECKING:
    from thalex_trio.strategy.params import EstimatorParams


class OwnFillIntensity:
    """Segments of one side's quoting and the MLE of A and k over them."""

    def __init__(self, params: EstimatorParams) -> None:
        self.params = params
        self._segments: deque[tuple[float, float, int]] = deque(maxlen=params.own_fill_max_segments)
        self._total_fills = 0
        # The fit reads the ring as float columns. Rebuilding them from the ring's tuples cost
        # more than the fit itself, so each fit only appends the segments added since the
        # previous one (found by the identity of the newest segment it saw) and reads the
        # ring as the columns' newest `len(_segments)` entries, through zero-copy views.
        # `add_segment`, the per-decision path, does no more than the ring append.
        self._depth_ticks = array("d")
        self._duration_s = array("d")
        self._fills = array("d")
        self._newest_folded: tuple[float, float, int] | None = None

    @property
    def total_fills(self) -> int:
        """Fills over the segments still in the ring."""
        return self._total_fills

    def add_segment(self, depth_ticks: float, duration_s: float, fills: int) -> None:
        """One stretch of quoting at `depth_ticks` from fair for `duration_s` with `fills` fills."""
        if duration_s <= 0.0 or not math.isfinite(depth_ticks):
            return
        segments = self._segments
        if len(segments) == segments.maxlen:
            self._total_fills -= segments[0][2]
        segments.append((depth_ticks, duration_s, fills))
        self._total_fills += fills

    def _fold(self) -> None:
        """Bring the columns up to date with the ring."""
        segments = self._segments
        newest = self._newest_folded
        added: list[tuple[float, float, int]] = []
        for segment in reversed(segments):
            if segment is newest:
                break
            added.append(segment)
        else:
            # The newest folded segment has left the ring (or nothing was folded yet): the
            # whole ring is new.
            del self._depth_ticks[:], self._duration_s[:], self._fills[:]
        if added:
            added.reverse()
            depths, durations, fills = zip(*added, strict=True)
            self._depth_ticks.extend(depths)
            self._duration_s.extend(durations)
            self._fills.extend(fills)
            self._newest_folded = segments[-1]
        stale = len(self._fills) - len(segments)
        if stale >= len(segments):  # compact once the dropped part outgrows the ring
            del self._depth_ticks[:stale], self._duration_s[:stale], self._fills[:stale]

    def fit(self) -> IntensityFit | None:
        """The MLE once `own_fill_min_fills` fills are in the ring, clamped to the bounds."""
        params = self.params
        if self._total_fills < params.own_fill_min_fills:
            return None
        self._fold()
        count = len(self._segments)
        start = len(self._fills) - count
        # The views share the columns' memory and die with this call, before the next fold
        # could resize a column (an array exporting its buffer cannot be resized).
        a, k = own_fill_intensity_mle(
            np.frombuffer(self._depth_ticks, dtype=np.float64)[start:],
            np.frombuffer(self._duration_s, dtype=np.float64)[start:],
            np.frombuffer(self._fills, dtype=np.float64)[start:],
            count,
            params.k_min_per_tick,
            params.k_max_per_tick,
        )
        if not (math.isfinite(a) and math.isfinite(k)):
            return None
        return IntensityFit(min(max(a, params.a_min_per_s), params.a_max_per_s), k)
