"""Arrival intensity of our own quotes by maximum likelihood (MODELS.md §4).

The quoter reports quoting segments per side: the depth of our best quote from fair, how long
it stood and how many fills it got. Unlike the depth-counting fit on public trades, this sees
our real queue position and who picks us off. Only the newest segments are kept; they are
appended as plain Python values (the hot path) and copied into arrays only when fitting.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from thalex_trio.kernels.intensity import own_fill_intensity_mle
from thalex_trio.strategy.estimators.market import IntensityFit

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from thalex_trio.strategy.params import EstimatorParams


class OwnFillIntensity:
    """Segments of one side's quoting and the MLE of A and k over them."""

    def __init__(self, params: EstimatorParams) -> None:
        self.params = params
        self._segments: deque[tuple[float, float, int]] = deque(maxlen=params.own_fill_max_segments)
        self._total_fills = 0

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

    def fit(self) -> IntensityFit | None:
        """The MLE once `own_fill_min_fills` fills are in the ring, clamped to the bounds."""
        params = self.params
        if self._total_fills < params.own_fill_min_fills:
            return None
        table: NDArray[np.float64] = np.array(self._segments, dtype=np.float64)
        a, k = own_fill_intensity_mle(
            np.ascontiguousarray(table[:, 0]),
            np.ascontiguousarray(table[:, 1]),
            np.ascontiguousarray(table[:, 2]),
            table.shape[0],
            params.k_min_per_tick,
            params.k_max_per_tick,
        )
        if not (math.isfinite(a) and math.isfinite(k)):
            return None
        return IntensityFit(min(max(a, params.a_min_per_s), params.a_max_per_s), k)
