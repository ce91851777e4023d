"""On a synthetic market with known sigma, A and k, the estimators recover them.

Tolerances (seeded, several seeds): sigma within 5% (600 s at 100 ms is 6000 samples, a
relative standard error of ~1%); k within 12% and A within 25% from the depth-counting fit over
the near-touch depths 0.5-4 ticks (A is exp(intercept), so its error is k's error times the
mean depth); own-fill MLE k within 10% and A within 20% from 3000 one-second segments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.strategy.synthetic import synthetic_market
from thalex_trio.strategy.estimators.market import MarketEstimator
from thalex_trio.strategy.estimators.own_fills import OwnFillIntensity
from thalex_trio.strategy.params import EstimatorParams

SIGMA, A, K = 2.0, 3.0, 0.8


def _params(**overrides: float) -> EstimatorParams:
    base = {
        "sample_interval_s": 0.1,
        "fast_window_s": 30.0,
        "mid_window_s": 120.0,
        "slow_window_s": 600.0,
        "warmup_s": 30.0,
        "intensity_window_s": 600.0,
        "intensity_refit_interval_s": 5.0,
        "intensity_min_depth_ticks": 0.5,
        "intensity_max_depth_ticks": 4.0,
    }
    base.update(overrides)
    return EstimatorParams(**base)  # type: ignore[arg-type]  # float overrides of float fields


def _run(seed: int, duration_s: float, params: EstimatorParams) -> MarketEstimator:
    estimator = MarketEstimator(params)
    for event in synthetic_market(seed, duration_s, 0.1, SIGMA, A, K):
        if event.is_trade:
            estimator.on_trade(event.time_ns, event.price_ticks, event.buyer)
        else:
            estimator.on_mid(event.time_ns, event.price_ticks)
    return estimator


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigma_and_intensity_are_recovered(seed: int) -> None:
    estimator = _run(seed, 605.0, _params())
    vol = estimator.volatility
    assert vol is not None
    assert vol.slow_ticks_per_sqrt_s == pytest.approx(SIGMA, rel=0.05)
    assert vol.mid_ticks_per_sqrt_s == pytest.approx(SIGMA, rel=0.12)
    assert vol.fast_ticks_per_sqrt_s == pytest.approx(SIGMA, rel=0.25)
    for fit in (estimator.bid_intensity, estimator.ask_intensity):
        assert fit is not None
        assert fit.k_per_tick == pytest.approx(K, rel=0.12)
        assert fit.a_per_s == pytest.approx(A, rel=0.25)


def test_nothing_is_reported_before_warm_up() -> None:
    estimator = _run(4, 20.0, _params(warmup_s=30.0))
    assert estimator.volatility is None
    assert estimator.bid_intensity is None


def test_estimates_are_clamped_to_their_bounds() -> None:
    estimator = _run(5, 120.0, _params(sigma_max_ticks_per_sqrt_s=1.0, k_max_per_tick=0.5))
    assert estimator.volatility is not None
    assert estimator.volatility.slow_ticks_per_sqrt_s == 1.0
    assert estimator.bid_intensity is not None
    assert estimator.bid_intensity.k_per_tick == 0.5


def test_a_quiet_gap_adds_flat_steps_without_unbounded_work() -> None:
    estimator = _run(6, 60.0, _params(slow_window_s=600.0))
    before = estimator.volatility
    assert before is not None
    estimator.advance_to(1_700_000_000_000_000_000 + 10**9 * 86_400)  # a day later
    after = estimator.volatility
    assert after is not None
    assert after.slow_ticks_per_sqrt_s == _params().sigma_min_ticks_per_sqrt_s
    assert estimator.steps_sampled == 6000


@pytest.mark.parametrize("seed", [7, 8])
def test_own_fill_mle_recovers_a_and_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    own = OwnFillIntensity(EstimatorParams(own_fill_max_segments=4096))
    for _ in range(3000):
        depth = float(rng.uniform(0.0, 4.0))
        fills = int(rng.poisson(A * math.exp(-K * depth) * 1.0))
        own.add_segment(depth, 1.0, fills)
    fit = own.fit()
    assert fit is not None
    assert fit.k_per_tick == pytest.approx(K, rel=0.10)
    assert fit.a_per_s == pytest.approx(A, rel=0.20)


def test_own_fill_mle_waits_for_enough_fills() -> None:
    own = OwnFillIntensity(EstimatorParams(own_fill_min_fills=5))
    for _ in range(4):
        own.add_segment(1.0, 1.0, 1)
    assert own.fit() is None
    own.add_segment(1.0, 1.0, 1)
    assert own.fit() is not None
