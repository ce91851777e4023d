"""Golden values from the Avellaneda-Stoikov paper's simulation, and GLFT structure.

Fixture (MODELS.md §1): s0 = 100, sigma = 2, T = 1, dt = 0.005, k = 1.5, A = 140, gamma in
{0.01, 0.1, 0.5}; "ticks" here are the paper's price units. Expected values are computed
independently with `math` from the closed form, and two are pinned as literals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from thalex_trio.kernels.avellaneda_stoikov import (
    as_half_spread_and_skew_ticks,
    as_reservation_price_ticks,
    as_total_spread_ticks,
)
from thalex_trio.kernels.glft import (
    glft_bounded_depths_ticks,
    glft_half_spread_and_skew_ticks,
    glft_skew_coefficient_ticks,
)

S0, SIGMA, T, K, A = 100.0, 2.0, 1.0, 1.5, 140.0


@pytest.mark.parametrize("gamma", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("q", [-3.0, -1.0, 0.0, 1.0, 2.0])
def test_paper_fixture_at_t0(gamma: float, q: float) -> None:
    reservation = S0 - q * gamma * SIGMA**2 * T
    spread = gamma * SIGMA**2 * T + 2 / gamma * math.log(1 + gamma / K)
    assert as_reservation_price_ticks(S0, q, gamma, SIGMA, T) == pytest.approx(
        reservation, rel=1e-12
    )
    assert as_total_spread_ticks(gamma, SIGMA, K, T) == pytest.approx(spread, rel=1e-12)
    half, skew = as_half_spread_and_skew_ticks(q, gamma, SIGMA, K, T)
    assert S0 - (half + skew) == pytest.approx(reservation - spread / 2, rel=1e-12)
    assert S0 + (half - skew) == pytest.approx(reservation + spread / 2, rel=1e-12)


def test_pinned_literals() -> None:
    # gamma = 0.1, q = 0: 0.1 * 4 * 1 + (2 / 0.1) * ln(1 + 0.1 / 1.5) = 0.4 + 1.290770...
    assert as_total_spread_ticks(0.1, SIGMA, K, T) == pytest.approx(1.6907704227514233, rel=1e-12)
    # gamma = 0.1, q = 2: r = 100 - 2 * 0.1 * 4 = 99.2
    assert as_reservation_price_ticks(S0, 2.0, 0.1, SIGMA, T) == pytest.approx(99.2, rel=1e-12)


def test_spread_shrinks_to_the_liquidity_term_at_the_horizon() -> None:
    half, skew = as_half_spread_and_skew_ticks(5.0, 0.1, SIGMA, K, 0.0)
    assert half == pytest.approx(math.log(1 + 0.1 / K) / 0.1)
    assert skew == 0.0


def test_glft_closed_form_values() -> None:
    gamma = 0.1
    c = math.sqrt(SIGMA**2 * gamma / (2 * K * A) * (1 + gamma / K) ** (1 + K / gamma))
    assert glft_skew_coefficient_ticks(gamma, SIGMA, A, K) == pytest.approx(c, rel=1e-12)
    half, skew = glft_half_spread_and_skew_ticks(1.0, gamma, SIGMA, A, K, 0.0, 0.0)
    assert half == pytest.approx(math.log(1 + gamma / K) / gamma + c / 2, rel=1e-12)
    assert skew == pytest.approx(c, rel=1e-12)  # skew per unit of inventory is C


def test_glft_drift_and_adverse_selection_move_quotes_the_right_way() -> None:
    half0, skew0 = glft_half_spread_and_skew_ticks(0.0, 0.1, SIGMA, A, K, 0.0, 0.0)
    _, skew_up = glft_half_spread_and_skew_ticks(0.0, 0.1, SIGMA, A, K, 0.5, 0.0)
    assert skew_up < skew0  # upward drift: bid closer, ask farther (we want to be long)
    half_xi, _ = glft_half_spread_and_skew_ticks(0.0, 0.1, SIGMA, A, K, 0.0, 1.0)
    c = glft_skew_coefficient_ticks(0.1, SIGMA, A, K)
    assert half_xi - half0 == pytest.approx(0.5 + 0.5 * c * (math.exp(K / 4) - 1), rel=1e-12)


@pytest.mark.parametrize("sigma", [0.0, 2e-162, 1e-200])
def test_glft_drift_without_usable_variance_is_left_out(sigma: float) -> None:
    # mu / (gamma sigma^2) overflows (or divides by 0) while C' underflows: the drift term has
    # no scale, so the skew is the inventory term alone, never NaN.
    half, skew = glft_half_spread_and_skew_ticks(2.0, 1.0, sigma, A, K, 1.0, 0.0)
    c = glft_skew_coefficient_ticks(1.0, sigma, A, K)
    assert skew == 2.0 * c
    assert half == pytest.approx(math.log1p(1.0 / K) + c / 2, rel=1e-12)


def test_glft_bounded_is_symmetric_monotone_and_stationary() -> None:
    big_q = 6
    bid = np.empty(2 * big_q + 1)
    ask = np.empty(2 * big_q + 1)
    glft_bounded_depths_ticks(big_q, 0.1, SIGMA, A, K, 1e5, bid, ask)
    finite_bid = bid[:-1]
    assert np.all(np.diff(finite_bid) > 0)  # longer inventory, deeper bid
    np.testing.assert_allclose(bid[:-1], ask[1:][::-1], rtol=1e-9)
    later = np.empty_like(bid)
    glft_bounded_depths_ticks(big_q, 0.1, SIGMA, A, K, 1e6, later, np.empty_like(ask))
    np.testing.assert_allclose(bid[:-1], later[:-1], rtol=1e-9)
    # Near q = 0 the exact solution is close to the closed form (the paper's approximation).
    half, skew = glft_half_spread_and_skew_ticks(0.0, 0.1, SIGMA, A, K, 0.0, 0.0)
    assert bid[big_q] == pytest.approx(half + skew, abs=0.05)
