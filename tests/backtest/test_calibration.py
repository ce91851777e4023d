"""Calibration: the suggested gamma hits the target skew; the synthetic market's known sigma,
A and k are recovered."""

from __future__ import annotations

import math

import pytest

from thalex_trio.backtest.calibration import calibrate, glft_skew_per_unit, suggest_gamma
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket
from thalex_trio.strategy.params import EstimatorParams


def test_suggested_gamma_hits_the_target_skew() -> None:
    gamma = suggest_gamma(4.0, 2.0, 0.3, limit_units=10.0, target_ticks=5.0)
    assert glft_skew_per_unit(gamma, 4.0, 2.0, 0.3) * 10.0 == pytest.approx(5.0, rel=1e-6)


def test_recovers_known_parameters() -> None:
    """Calibrating 600 s of the synthetic market recovers its sigma, A and k.

    sigma: the generator always shows a 2-tick spread, so its published mid is the latent mid
    rounded to a whole tick; the rounding errors at both ends of a 100 ms step are independent
    with variance 1/12 tick^2 each, so the sampled sigma is sqrt(sigma^2 + (2/12) / 0.1 s) =
    4.20 against the walk's 4.0. Its relative standard error is 1 / sqrt(2 n) for n steps per
    window: 0.9% over the slow window (6000 steps), 2.0% over the mid (1200), 4.1% over the fast
    (300); the tolerances 4%, 8% and 16% are about four standard errors.

    A and k: candidate depths are whole ticks (1 to 10), because with a whole-tick mid trades
    reach whole-tick depths and a half-tick grid would count lambda(ceil(delta)), a staircase
    that biases A low by exp(-k / 4) (7%). The deepest depth is reached in about
    A exp(-10 k) * 600 s = 150 steps, so ln lambda there is known to ~8%, the slope over nine
    ticks to ~5% and the intercept (k's error times the mean depth 5.5) to ~7%; seeds 1-8 spread
    by 5% (k) and 6% (A). The tolerances, 15% for k and 20% for A, are about three of those.
    """
    market = SyntheticMarket(
        SyntheticParams(seed=7, options=None, arrival_a_per_s=5.0, refill_probability=1.0)
    )
    known = market.known_parameters()
    params = EstimatorParams(
        intensity_window_s=600.0,
        intensity_min_depth_ticks=1.0,
        intensity_max_depth_ticks=10.0,
        intensity_depth_step_ticks=1.0,
    )
    result = calibrate(
        market.chunks(600.0), market.instrument(), params, limit_units=10.0, target_skew_ticks=5.0
    )
    step_s = params.sample_interval_s
    sigma = math.sqrt(known["sigma_ticks_per_sqrt_s"] ** 2 + (2 / 12) / step_s)
    assert result.sigma_slow_ticks_per_sqrt_s == pytest.approx(sigma, rel=0.04)
    assert result.sigma_mid_ticks_per_sqrt_s == pytest.approx(sigma, rel=0.08)
    assert result.sigma_fast_ticks_per_sqrt_s == pytest.approx(sigma, rel=0.16)
    for a, k, fit in (
        (result.bid_a_per_s, result.bid_k_per_tick, result.bid_fit),
        (result.ask_a_per_s, result.ask_k_per_tick, result.ask_fit),
    ):
        assert k == pytest.approx(known["arrival_k_per_tick"], rel=0.15)
        assert a == pytest.approx(known["arrival_a_per_s"], rel=0.20)
        assert fit.depths_used == 10
        assert fit.r_squared > 0.98
    assert result.steps >= 5990
    gamma = result.suggested_gamma_per_tick
    assert math.isfinite(gamma)
    assert f"gamma_per_tick = {gamma:.6g}" in result.toml_snippet()
