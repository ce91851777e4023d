"""Realised volatility and drift of mid changes sampled on a fixed grid (MODELS.md §4).

The samples live in a ring buffer of mid changes in ticks, one per grid step of `step_s`;
sigma comes out in ticks/sqrt(s) and drift in ticks/s.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from numba import njit

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@njit("UniTuple(float64, 2)(float64[:], int64, int64, int64, float64)", cache=True)
def window_drift_and_sigma(
    diffs_ticks: NDArray[np.float64],
    newest_index: int,
    filled: int,
    window_steps: int,
    step_s: float,
) -> tuple[float, float]:
    """(drift ticks/s, sigma ticks/sqrt(s)) over the newest min(filled, window_steps) samples.

    The ring buffer is read backwards from `newest_index`. Sigma is the sample standard
    deviation (ddof 1) scaled by 1/sqrt(step_s); fewer than two samples give (nan, nan).
    """
    capacity = diffs_ticks.shape[0]
    count = min(filled, window_steps, capacity)
    if count < 2:
        return math.nan, math.nan
    total = 0.0
    index = newest_index
    for _ in range(count):
        total += diffs_ticks[index]
        index = index - 1 if index > 0 else capacity - 1
    mean = total / count
    squares = 0.0
    index = newest_index
    for _ in range(count):
        deviation = diffs_ticks[index] - mean
        squares += deviation * deviation
        index = index - 1 if index > 0 else capacity - 1
    return mean / step_s, math.sqrt(squares / (count - 1) / step_s)
