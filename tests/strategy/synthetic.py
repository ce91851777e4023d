"""A synthetic market with known sigma, A and k, for estimator recovery tests.

The mid is an arithmetic Brownian motion with `sigma_ticks_per_sqrt_s`, updated once per step
of `step_s` (the estimator's grid). Market orders arrive on each side as a Poisson process of
rate A, and each reaches a depth (from the mid at the step's start) that is exponential with
rate k, so orders reaching beyond delta arrive at rate A exp(-k delta): MODELS.md §4's lambda.
"""

from __future__ import annotations

import numpy as np
from attrs import frozen

from thalex_trio.strategy.params import EstimatorParams

FAST_REFITS = EstimatorParams(
    warmup_s=5.0,
    fast_window_s=10.0,
    mid_window_s=20.0,
    slow_window_s=60.0,
    intensity_window_s=60.0,
    intensity_max_depth_ticks=4.0,
    own_fill_min_fills=5,
    intensity_refit_interval_s=1.0,
)
"""Short windows, five own fills and a refit a second: every estimator fits within a minute
of `synthetic_market`."""


@frozen
class SyntheticEvent:
    """A mid update (`is_trade` False) or a trade (`buyer` says which side) in fractional ticks."""

    time_ns: int
    price_ticks: float
    is_trade: bool
    buyer: bool


def synthetic_market(
    seed: int,
    duration_s: float,
    step_s: float,
    sigma_ticks_per_sqrt_s: float,
    a_per_s: float,
    k_per_tick: float,
    start_ns: int = 1_700_000_000_000_000_000,
) -> list[SyntheticEvent]:
    """The events in time order: per step, trades first, then the step's mid update."""
    rng = np.random.default_rng(seed)
    steps = round(duration_s / step_s)
    step_ns = round(step_s * 1e9)
    moves = rng.normal(0.0, sigma_ticks_per_sqrt_s * np.sqrt(step_s), steps)
    mid = 50_000.0
    events = [SyntheticEvent(start_ns, mid, False, False)]
    for i in range(steps):
        t0 = start_ns + (i + 1) * step_ns
        for buyer in (True, False):
            for _ in range(rng.poisson(a_per_s * step_s)):
                depth = rng.exponential(1.0 / k_per_tick)
                price = mid + depth if buyer else mid - depth
                events.append(
                    SyntheticEvent(t0 + 1 + int(rng.integers(step_ns // 2)), price, True, buyer)
                )
        mid += float(moves[i])
        events.append(SyntheticEvent(t0 + step_ns // 2 + 1, mid, False, False))
    return events
