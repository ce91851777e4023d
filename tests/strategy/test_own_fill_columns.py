"""The own-fill estimator's flat columns keep exactly the newest segments, in order.

Reference: the bounded deque of (depth, duration, fills) tuples copied into arrays at each fit,
which the columns replaced; the fit must be bit for bit the same.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_trio.kernels.intensity import own_fill_intensity_mle
from thalex_trio.strategy.estimators.own_fills import OwnFillIntensity
from thalex_trio.strategy.params import EstimatorParams

_segment = st.tuples(
    st.one_of(st.integers(-2, 12).map(lambda n: n * 0.5), st.floats(-1.0, 6.0), st.just(math.nan)),
    st.one_of(st.floats(0.01, 5.0), st.just(0.0)),
    st.integers(0, 4),
    st.booleans(),  # fit now? Segments pile up, and may leave the ring, between fits
)


@settings(max_examples=300)
@given(st.integers(1, 9), st.integers(1, 6), st.lists(_segment, max_size=80))
def test_columns_match_a_bounded_deque(
    max_segments: int, min_fills: int, segments: list[tuple[float, float, int, bool]]
) -> None:
    params = EstimatorParams(own_fill_max_segments=max_segments, own_fill_min_fills=min_fills)
    own = OwnFillIntensity(params)
    ring: deque[tuple[float, float, int]] = deque(maxlen=max_segments)
    for depth, duration, fills, fit_now in segments:
        own.add_segment(depth, duration, fills)
        if duration > 0.0 and math.isfinite(depth):
            ring.append((depth, duration, fills))
        assert own.total_fills == sum(s[2] for s in ring)
        if not fit_now:
            continue
        fit = own.fit()
        if own.total_fills < min_fills:
            assert fit is None
            continue
        table = np.array(ring, dtype=np.float64)
        a, k = own_fill_intensity_mle(
            np.ascontiguousarray(table[:, 0]),
            np.ascontiguousarray(table[:, 1]),
            np.ascontiguousarray(table[:, 2]),
            table.shape[0],
            params.k_min_per_tick,
            params.k_max_per_tick,
        )
        if not (math.isfinite(a) and math.isfinite(k)):
            assert fit is None
        else:
            assert fit is not None
            assert fit.a_per_s == min(max(a, params.a_min_per_s), params.a_max_per_s)
            assert fit.k_per_tick == k
