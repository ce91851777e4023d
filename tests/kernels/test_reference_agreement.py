"""Each kernel against its plain-Python reference, on Hypothesis-drawn inputs.

`test_no_jit.py` runs this module again with NUMBA_DISABLE_JIT=1, so the Python bodies of the
kernels are checked too (numba compiles a subset of Python; both must agree).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.kernels import reference
from thalex_trio.kernels.avellaneda_stoikov import (
    as_half_spread_and_skew_ticks,
    as_reservation_price_ticks,
    as_total_spread_ticks,
)
from thalex_trio.kernels.glft import glft_bounded_depths_ticks, glft_half_spread_and_skew_ticks
from thalex_trio.kernels.intensity import depth_count_intensity_fit, own_fill_intensity_mle
from thalex_trio.kernels.ladder import ladder_side_levels
from thalex_trio.kernels.volatility import window_drift_and_sigma

inventories = st.floats(-50, 50, allow_nan=False)
gammas = st.floats(0.001, 2.0)
sigmas = st.floats(0.01, 50.0)
intensities_a = st.floats(0.01, 500.0)
ks = st.floats(0.01, 10.0)
horizons = st.floats(0.0, 3600.0)


def close(x: float, y: float, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    return math.isclose(x, y, rel_tol=rel, abs_tol=abs_)


@given(st.floats(-1e6, 1e6), inventories, gammas, sigmas, horizons)
def test_as_reservation_price(s: float, q: float, gamma: float, sigma: float, tau: float) -> None:
    got = as_reservation_price_ticks(s, q, gamma, sigma, tau)
    assert close(got, reference.as_reservation(s, q, gamma, sigma, tau), abs_=1e-6)


@given(gammas, sigmas, ks, horizons)
def test_as_total_spread(gamma: float, sigma: float, k: float, tau: float) -> None:
    got = as_total_spread_ticks(gamma, sigma, k, tau)
    assert close(got, reference.as_spread(gamma, sigma, k, tau))


@given(inventories, gammas, sigmas, ks, horizons)
def test_as_depths(q: float, gamma: float, sigma: float, k: float, tau: float) -> None:
    half, skew = as_half_spread_and_skew_ticks(q, gamma, sigma, k, tau)
    bid, ask = reference.as_depths(q, gamma, sigma, k, tau)
    scale = max(1.0, abs(bid), abs(ask))
    assert close(half + skew, bid, abs_=1e-9 * scale)
    assert close(half - skew, ask, abs_=1e-9 * scale)


@given(inventories, gammas, sigmas, intensities_a, ks, st.floats(-5.0, 5.0), st.floats(0.0, 3.0))
def test_glft_depths(
    q: float, gamma: float, sigma: float, a: float, k: float, mu: float, xi: float
) -> None:
    half, skew = glft_half_spread_and_skew_ticks(q, gamma, sigma, a, k, mu, xi)
    bid, ask = reference.glft_depths(q, gamma, sigma, a, k, mu, xi)
    scale = max(1.0, abs(bid), abs(ask))
    assert close(half + skew, bid, rel=1e-8, abs_=1e-8 * scale)
    assert close(half - skew, ask, rel=1e-8, abs_=1e-8 * scale)


@given(
    st.integers(1, 4),
    st.floats(0.01, 1.0),
    st.floats(0.1, 5.0),
    st.floats(0.5, 50.0),
    st.floats(0.1, 3.0),
    st.floats(0.01, 100.0),
)
def test_glft_bounded(
    big_q: int, gamma: float, sigma: float, a: float, k: float, tau: float
) -> None:
    bid = np.empty(2 * big_q + 1)
    ask = np.empty(2 * big_q + 1)
    glft_bounded_depths_ticks(big_q, gamma, sigma, a, k, tau, bid, ask)
    ref_bid, ref_ask, dynamic_range = reference.glft_bounded(big_q, gamma, sigma, a, k, tau)
    # Where v spans more than 1e-9 of its maximum the eigh reference is the inaccurate one.
    assume(dynamic_range > 1e-9)
    assert bid[-1] == math.inf
    assert ask[0] == math.inf
    for got, want in zip([*bid[:-1], *ask[1:]], [*ref_bid[:-1], *ref_ask[1:]], strict=True):
        assert close(float(got), want, rel=1e-6, abs_=1e-6)


@given(
    st.lists(st.floats(-100, 100), min_size=2, max_size=60),
    st.integers(0, 59),
    st.integers(2, 80),
    st.floats(0.01, 1.0),
)
def test_window_drift_and_sigma(values: list[float], shift: int, window: int, step: float) -> None:
    # Put the samples into a ring at an arbitrary rotation; the kernel must read it in order.
    capacity = len(values)
    ring = np.empty(capacity)
    head = shift % capacity
    for i, value in enumerate(reversed(values)):
        ring[(head - i) % capacity] = value
    drift, sigma = window_drift_and_sigma(ring, head, capacity, window, step)
    want_drift, want_sigma = reference.drift_and_sigma(values[-min(window, capacity) :], step)
    assert close(drift, want_drift, rel=1e-7, abs_=1e-7)
    assert close(sigma, want_sigma, rel=1e-7, abs_=1e-7)


@given(
    st.lists(st.one_of(st.just(math.nan), st.floats(-2.0, 12.0)), min_size=1, max_size=300),
    st.floats(0.05, 1.0),
    st.integers(0, 5),
)
def test_depth_count_fit(reach: list[float], step: float, min_count: int) -> None:
    array = np.array(reach)
    depths = np.arange(0.5, 10.01, 0.5)
    a, k, used = depth_count_intensity_fit(array, len(reach), step, depths, min_count)
    ref_a, ref_k, ref_used = reference.depth_count_fit(array, len(reach), step, depths, min_count)
    assert used == ref_used
    if ref_used < 2:
        assert math.isnan(a)
        assert math.isnan(k)
    else:
        assert close(k, ref_k, rel=1e-6, abs_=1e-7)
        assert close(a, ref_a, rel=1e-6)


@given(
    st.lists(
        st.tuples(st.floats(0.0, 8.0), st.floats(0.1, 30.0), st.integers(0, 20)),
        min_size=2,
        max_size=40,
    )
)
def test_own_fill_mle_maximises_the_likelihood(segments: list[tuple[float, float, int]]) -> None:
    depth = [s[0] for s in segments]
    duration = [s[1] for s in segments]
    fills = [float(s[2]) for s in segments]
    a, k = own_fill_intensity_mle(
        np.array(depth), np.array(duration), np.array(fills), len(depth), 0.01, 10.0
    )
    if sum(fills) == 0:
        assert math.isnan(a)
        assert math.isnan(k)
        return
    assert 0.01 <= k <= 10.0
    best = reference.mle_log_likelihood(a, k, depth, duration, fills)
    # No nearby (A, k) on the feasible k range does better than the fit (up to rounding).
    for da in (0.97, 1.03):
        assert reference.mle_log_likelihood(a * da, k, depth, duration, fills) <= best + 1e-7
    for dk in (-1e-3, 1e-3):
        k2 = min(max(k + dk, 0.01), 10.0)
        total = sum(fills)
        a2 = total / sum(math.exp(-k2 * d) * t for d, t in zip(depth, duration, strict=True))
        assert reference.mle_log_likelihood(a2, k2, depth, duration, fills) <= best + 1e-6 * max(
            1.0, abs(best)
        )


@given(
    st.booleans(),
    st.floats(-100.0, 2000.0),
    st.floats(0.0, 7.0),
    st.one_of(st.none(), st.integers(-50, 2000)),
    st.floats(0.0, 60.0),
    st.floats(0.5, 2.0),
    st.integers(1, 10),
    st.integers(0, 200),
    st.integers(1, 8),
)
def test_ladder_side_levels(
    is_bid: bool,
    first: float,
    spacing: float,
    cap: int | None,
    size: float,
    growth: float,
    min_lots: int,
    room: int,
    levels: int,
) -> None:
    step = -spacing if is_bid else spacing
    prices = np.zeros(levels, dtype=np.int64)
    amounts = np.zeros(levels, dtype=np.int64)
    count = ladder_side_levels(
        is_bid,
        first,
        step,
        cap is not None,
        cap or 0,
        size,
        growth,
        min_lots,
        room,
        prices,
        amounts,
    )
    got = list(zip(prices[:count].tolist(), amounts[:count].tolist(), strict=True))
    assert got == reference.ladder_side(
        is_bid, first, step, cap, size, growth, min_lots, room, levels
    )
