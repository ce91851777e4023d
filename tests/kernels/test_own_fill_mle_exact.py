"""The optimised own-fill MLE returns bit for bit what the plain algorithm returns.

The kernel computes one exp per distinct depth and stops the bisection once its bracket stops
moving; the reference below is the straightforward version (one exp per segment, all 100
bisection steps) it replaced.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from thalex_trio.kernels.intensity import own_fill_intensity_mle

if TYPE_CHECKING:
    from numpy.typing import NDArray


@njit(cache=True)
def _reference_tilted_mean(
    depth: NDArray[np.float64],
    duration: NDArray[np.float64],
    count: int,
    k: float,
    min_depth: float,
) -> tuple[float, float]:
    weight_sum = 0.0
    weighted_depth = 0.0
    for i in range(count):
        weight = math.exp(-k * (depth[i] - min_depth)) * duration[i]
        weight_sum += weight
        weighted_depth += weight * depth[i]
    return weighted_depth / weight_sum, weight_sum


@njit(cache=True)
def _reference_mle(
    depth: NDArray[np.float64],
    duration: NDArray[np.float64],
    fills: NDArray[np.float64],
    count: int,
    k_min: float,
    k_max: float,
) -> tuple[float, float]:
    total_fills = 0.0
    fill_depth = 0.0
    exposure = 0.0
    min_depth = math.inf
    for i in range(count):
        total_fills += fills[i]
        fill_depth += fills[i] * depth[i]
        exposure += duration[i]
        min_depth = min(min_depth, depth[i])
    if total_fills <= 0.0 or exposure <= 0.0:
        return math.nan, math.nan
    target = fill_depth / total_fills
    low = k_min
    high = k_max
    mean_low, _ = _reference_tilted_mean(depth, duration, count, low, min_depth)
    mean_high, _ = _reference_tilted_mean(depth, duration, count, high, min_depth)
    if mean_low <= target:
        k = low
    elif mean_high >= target:
        k = high
    else:
        for _ in range(100):
            middle = 0.5 * (low + high)
            mean_middle, _ = _reference_tilted_mean(depth, duration, count, middle, min_depth)
            if mean_middle > target:
                low = middle
            else:
                high = middle
        k = 0.5 * (low + high)
    _, weight_sum = _reference_tilted_mean(depth, duration, count, k, min_depth)
    return total_fills / weight_sum * math.exp(k * min_depth), k


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == y


_half_ticks = st.integers(-4, 16).map(lambda n: n * 0.5)
_any_depth = st.floats(-2.0, 8.0, allow_nan=False)


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.one_of(_half_ticks, _any_depth, st.just(-0.0)),
            st.floats(0.001, 30.0),
            st.integers(0, 5),
        ),
        min_size=1,
        max_size=200,
    ),
    st.integers(0, 5),
)
def test_matches_the_plain_algorithm_bit_for_bit(
    segments: list[tuple[float, float, int]], unused_tail: int
) -> None:
    count = len(segments)
    # Slots past `count` must not matter (the estimator passes ring buffers longer than that).
    depth = np.array([s[0] for s in segments] + [99.0] * unused_tail)
    duration = np.array([s[1] for s in segments] + [1.0] * unused_tail)
    fills = np.array([float(s[2]) for s in segments] + [7.0] * unused_tail)
    for k_min, k_max in ((0.001, 10.0), (0.01, 10.0), (0.5, 0.6)):
        got = own_fill_intensity_mle(depth, duration, fills, count, k_min, k_max)
        want = _reference_mle(depth, duration, fills, count, k_min, k_max)
        assert _same(got[0], want[0]), (got, want)
        assert _same(got[1], want[1]), (got, want)


def test_matches_on_a_full_ring_of_grid_depths() -> None:
    rng = np.random.default_rng(3)
    n = 4096
    depth = (rng.integers(0, 12, n) * 0.5).astype(np.float64)
    duration = rng.uniform(0.05, 2.0, n)
    fills = rng.poisson(2.0 * np.exp(-0.8 * depth) * duration).astype(np.float64)
    got = own_fill_intensity_mle(depth, duration, fills, n, 0.001, 10.0)
    want = _reference_mle(depth, duration, fills, n, 0.001, 10.0)
    assert got == want
