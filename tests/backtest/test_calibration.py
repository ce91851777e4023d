"""Calibration: the suggested gamma hits the target skew; the synthetic market's known sigma,
A and k are recovered."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest

from thalex_trio.backtest.calibration import (
    calibrate,
    glft_skew_per_unit,
    lattice_intensity_fit,
    suggest_gamma,
)
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket
from thalex_trio.strategy.params import EstimatorParams

if TYPE_CHECKING:
    from numpy.typing import NDArray


def test_suggested_gamma_hits_the_target_skew() -> None:
    gamma = suggest_gamma(4.0, 2.0, 0.3, limit_units=10.0, target_ticks=5.0)
    assert glft_skew_per_unit(gamma, 4.0, 2.0, 0.3) * 10.0 == pytest.approx(5.0, rel=1e-6)


def test_recovers_known_parameters() -> None:
    """Calibrating 600 s of the synthetic market recovers its sigma, A and k, with the default
    candidate depths (every half tick from 0.5 to 10).

    sigma: the generator always shows a 2-tick spread, so its published mid is the latent mid
    rounded to a whole tick; the rounding errors at both ends of a 100 ms step are independent
    with variance 1/12 tick^2 each, so the sampled sigma is sqrt(sigma^2 + (2/12) / 0.1 s) =
    4.20 against the walk's 4.0. Its relative standard error is 1 / sqrt(2 n) for n steps per
    window: 0.9% over the slow window (6000 steps), 2.0% over the mid (1200), 4.1% over the fast
    (300); the tolerances 4%, 8% and 16% are about four standard errors.

    A and k: with a whole-tick mid, trades reach whole-tick depths, so the half-tick candidates
    land on the ten depths 1 to 10 (`lattice_intensity_fit` places each point at the depth
    reached; fitted at the candidate itself, A would come out about exp(-k / 4) = 7% low). The
    deepest depth is reached in about A exp(-10 k) * 600 s = 150 steps, so ln lambda there is
    known to ~8%, the slope over nine ticks to ~5% and the intercept (k's error times the mean
    depth 5.5) to ~7%; seeds 1-8 spread by 5% (k) and 6% (A). The tolerances, 15% for k and
    20% for A, are about three of those.
    """
    market = SyntheticMarket(
        SyntheticParams(seed=7, options=None, arrival_a_per_s=5.0, refill_probability=1.0)
    )
    known = market.known_parameters()
    params = EstimatorParams(intensity_window_s=600.0)
    assert params.intensity_depth_step_ticks == 0.5  # the default grid is what is tested
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


def _lattice_reaches(
    a: float, k: float, depths: list[float], steps: int, step_s: float
) -> NDArray[np.float64]:
    """Per-step reaches on a lattice with exactly the counts lambda(d) = A exp(-k d) implies:
    round(steps * P(reach >= d)) steps reach at least each lattice depth d."""
    at_least = [round(steps * -math.expm1(-a * math.exp(-k * d) * step_s)) for d in depths]
    reach = np.full(steps, np.nan)
    start = 0
    for i, depth in enumerate(depths):
        deeper = at_least[i + 1] if i + 1 < len(depths) else 0
        n = at_least[i] - deeper
        reach[start : start + n] = depth
        start += n
    return reach


@pytest.mark.parametrize(
    ("lattice", "grid_step"),
    [
        ([float(d) for d in range(1, 11)], 0.5),  # whole-tick mid, half-tick candidates
        ([d + 0.5 for d in range(10)], 1.0),  # half-tick mid (odd spread), whole-tick candidates
        ([d + 0.5 for d in range(10)], 0.25),
    ],
)
def test_lattice_fit_is_exact_whatever_the_candidate_grid(
    lattice: list[float], grid_step: float
) -> None:
    a, k, step_s = 2.5, 0.3, 0.1
    reach = _lattice_reaches(a, k, lattice, 1_000_000, step_s)
    depths = np.arange(grid_step, 10.0 + 1e-9, grid_step)
    fit = lattice_intensity_fit(reach, step_s, depths, min_count=10)
    # Only the rounding of the counts to whole steps is left: well under 0.1%.
    assert fit.a_per_s == pytest.approx(a, rel=1e-3)
    assert fit.k_per_tick == pytest.approx(k, rel=1e-3)
    reached_depths = [d for d in lattice if d >= depths[0]]
    assert fit.quality.depths_used == len(reached_depths)
    assert fit.quality.r_squared > 0.999999


def test_lattice_fit_needs_two_depths() -> None:
    reach = np.full(1000, np.nan)
    reach[:500] = 1.0  # one depth only
    fit = lattice_intensity_fit(reach, 0.1, np.arange(0.5, 10.0, 0.5), min_count=10)
    assert math.isnan(fit.a_per_s)
    assert math.isnan(fit.k_per_tick)
    assert fit.quality.depths_used == 1
