"""Arrival intensity lambda(delta) = A exp(-k delta) fits (MODELS.md §4).

Two fits, both in ticks and seconds (A in 1/s, k in 1/tick):
- the depth-counting fit on market trades: per grid step, the farthest depth a trade reached
  from the previous grid mid on one side (nan when no trade);
- the maximum-likelihood fit on our own quotes and fills: per quoting segment, the depth, how
  long it rested and how many fills it got.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from numpy.typing import NDArray


@njit("Tuple((float64, float64, int64))(float64[:], int64, float64, float64[:], int64)", cache=True)
def depth_count_intensity_fit(
    reach_ticks: NDArray[np.float64],
    steps: int,
    step_s: float,
    depths_ticks: NDArray[np.float64],
    min_count: int,
) -> tuple[float, float, int]:
    """(A per s, k per tick, depths used) by least squares of ln lambda on depth.

    For each candidate depth, the fraction f of the `steps` grid steps whose reach got to it
    gives lambda = -ln(1 - f) / step_s: the exact Poisson inversion of P(at least one arrival),
    which stays unbiased where counting steps / window would saturate at 1 / step_s. Depths
    reached in fewer than `min_count` steps (too noisy in log space) or in every step (no
    information) are skipped. Fewer than two
    usable depths give (nan, nan, n).
    """
    points = 0
    sum_x = 0.0
    sum_y = 0.0
    sum_xx = 0.0
    sum_xy = 0.0
    if steps <= 0:
        return math.nan, math.nan, 0
    for d in range(depths_ticks.shape[0]):
        depth = depths_ticks[d]
        count = 0
        for i in range(reach_ticks.shape[0]):
            if reach_ticks[i] >= depth:
                count += 1
        if count < max(min_count, 1) or count >= steps:
            continue
        rate = -math.log1p(-count / steps) / step_s
        y = math.log(rate)
        points += 1
        sum_x += depth
        sum_y += y
        sum_xx += depth * depth
        sum_xy += depth * y
    if points < 2:
        return math.nan, math.nan, points
    denominator = points * sum_xx - sum_x * sum_x
    if denominator <= 0.0:
        return math.nan, math.nan, points
    slope = (points * sum_xy - sum_x * sum_y) / denominator
    intercept = (sum_y - slope * sum_x) / points
    return math.exp(intercept), -slope, points


@njit(cache=True)
def _depth_groups(
    depth_ticks: NDArray[np.float64], count: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """(distinct depths, index of each segment's depth among them).

    Quotes sit on the tick grid and fair moves in half ticks, so a few thousand segments share
    a few dozen depths: the tilt e^-k(d - min) then costs one exp per distinct depth instead of
    one per segment. Depths are grouped by `==`, so a group's exp argument is the same float
    as each member's would be (+0.0 and -0.0 give exp(+-0) = 1 either way; a nan is its own
    group).
    """
    order = np.argsort(depth_ticks[:count])
    distinct = np.empty(count, dtype=np.float64)
    group = np.empty(count, dtype=np.int64)
    groups = 0
    for n in range(count):
        i = order[n]
        depth = depth_ticks[i]
        if groups == 0 or depth != distinct[groups - 1]:
            distinct[groups] = depth
            groups += 1
        group[i] = groups - 1
    return distinct[:groups], group


@njit(cache=True)
def _tilted_mean_depth(
    depth_ticks: NDArray[np.float64],
    duration_s: NDArray[np.float64],
    count: int,
    k_per_tick: float,
    min_depth: float,
    distinct_ticks: NDArray[np.float64],
    group: NDArray[np.int64],
    tilt: NDArray[np.float64],
) -> tuple[float, float]:
    # `tilt` is scratch space, one slot per distinct depth. The sums run over the segments in
    # their order, exactly as a per-segment exp would, so the result is bit for bit the same.
    for g in range(distinct_ticks.shape[0]):
        tilt[g] = math.exp(-k_per_tick * (distinct_ticks[g] - min_depth))
    weight_sum = 0.0
    weighted_depth = 0.0
    for i in range(count):
        weight = tilt[group[i]] * duration_s[i]
        weight_sum += weight
        weighted_depth += weight * depth_ticks[i]
    return weighted_depth / weight_sum, weight_sum


@njit(
    "UniTuple(float64, 2)(float64[:], float64[:], float64[:], int64, float64, float64)", cache=True
)
def own_fill_intensity_mle(
    depth_ticks: NDArray[np.float64],
    duration_s: NDArray[np.float64],
    fills: NDArray[np.float64],
    count: int,
    k_min_per_tick: float,
    k_max_per_tick: float,
) -> tuple[float, float]:
    """(A per s, k per tick) maximising sum n_i ln(A e^-k d_i dt_i) - A e^-k d_i dt_i.

    For fixed k the optimum is A = sum n / sum e^-k d dt; the profile score in k is zero where
    the fill-weighted mean depth equals the exposure-weighted mean depth under the tilt e^-k d,
    which decreases in k, so bisection on [k_min, k_max] finds it (clamped to the bounds when
    the root lies outside). No fills or no exposure give (nan, nan).
    """
    total_fills = 0.0
    fill_depth = 0.0
    exposure = 0.0
    min_depth = math.inf
    for i in range(count):
        total_fills += fills[i]
        fill_depth += fills[i] * depth_ticks[i]
        exposure += duration_s[i]
        min_depth = min(min_depth, depth_ticks[i])
    if total_fills <= 0.0 or exposure <= 0.0:
        return math.nan, math.nan
    distinct, group = _depth_groups(depth_ticks, count)
    tilt = np.empty(distinct.shape[0], dtype=np.float64)
    target = fill_depth / total_fills
    low = k_min_per_tick
    high = k_max_per_tick
    mean_low, _ = _tilted_mean_depth(
        depth_ticks, duration_s, count, low, min_depth, distinct, group, tilt
    )
    mean_high, _ = _tilted_mean_depth(
        depth_ticks, duration_s, count, high, min_depth, distinct, group, tilt
    )
    if mean_low <= target:
        k = low
    elif mean_high >= target:
        k = high
    else:
        for _ in range(100):
            # A step that leaves (low, high) unchanged would repeat itself to the end of the
            # loop, so stopping there (about 55 steps in, once the bracket is one float wide)
            # gives the same k as running all 100 steps.
            middle = 0.5 * (low + high)
            mean_middle, _ = _tilted_mean_depth(
                depth_ticks, duration_s, count, middle, min_depth, distinct, group, tilt
            )
            if mean_middle > target:
                if middle == low:
                    break
                low = middle
            else:
                if middle == high:
                    break
                high = middle
        k = 0.5 * (low + high)
    _, weight_sum = _tilted_mean_depth(
        depth_ticks, duration_s, count, k, min_depth, distinct, group, tilt
    )
    return total_fills / weight_sum * math.exp(k * min_depth), k
