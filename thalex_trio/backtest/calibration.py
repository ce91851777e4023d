"""Calibration: sigma (fast / mid / slow windows), A and k per side, and a suggested gamma.

The book is rebuilt by the matching engine (no orders); on a grid of
`EstimatorParams.sample_interval_s` the trades since the last step go to `on_trade` and then the
mid to `on_mid` of the strategy's own online estimator (`MarketEstimator`), exactly as the live
quoter feeds them; sigma is its multi-window estimate. A and k are fitted here from the same
per-step reaches (the farthest trade depth from the previous grid mid, per side) over the
estimator's window and candidate depths, by `lattice_intensity_fit`: the depth-count fit with
each point placed at the depth the trades really reached, which removes the low bias of A that
a candidate grid finer than the reaches gives (see there). The suggested gamma is the one
whose GLFT skew per lot, times the position limit in quote units, equals `target_skew_ticks`
(MODELS.md §2, solved by bisection in log gamma). Goodness of fit per side (`FitQuality`): the
R^2 of the log-linear line through the points used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen

from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.events import TRADE_EVENT
from thalex_trio.strategy.estimators.market import MarketEstimator

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import NDArray

    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.sim.events import Events
    from thalex_trio.strategy.params import EstimatorParams


@frozen
class FitQuality:
    """How well ln lambda = ln A - k delta fits one side: R^2 over the depths used, and the
    grid steps (of `steps` in the window) with a trade on that side."""

    r_squared: float
    depths_used: int
    steps_with_trades: int
    steps: int


_NO_FIT = FitQuality(math.nan, 0, 0, 0)


@frozen
class IntensityFit:
    """A and k of lambda(delta) = A exp(-k delta) for one side, and how well they fit."""

    a_per_s: float
    k_per_tick: float
    quality: FitQuality


def lattice_intensity_fit(
    reach_ticks: NDArray[np.float64], step_s: float, depths_ticks: NDArray[np.float64],
    min_count: int,
) -> IntensityFit:  # fmt: skip
    """A and k by least squares of ln lambda on depth, each point at the depth really reached.

    `reach_ticks` holds, per grid step, the farthest depth a trade reached from the mid (NaN
    for none). For a candidate depth d the steps reaching it give lambda = -ln(1 - f) / step_s
    (f their fraction), as in the live estimator. Trades print on the tick grid and the mid sits
    on whole or half ticks, so reaches take few values: every step counted at d reached at
    least the smallest reach >= d, and that is the depth the point belongs to. Fitting at d
    itself draws a staircase (lambda of the next reachable depth plotted at d) that biases A
    low by about exp(-k * spacing / 2) when the grid is finer than the reaches (7% for
    k = 0.3 on a half-tick grid over whole-tick reaches). Candidates that land on the same
    reach give the same point once. Depths reached in fewer than `min_count` steps or in every
    step are skipped; fewer than two points give NaN for A and k.
    """
    steps = reach_ticks.shape[0]
    if steps == 0:
        return IntensityFit(math.nan, math.nan, _NO_FIT)
    reached = np.sort(reach_ticks[np.isfinite(reach_ticks)])
    n = reached.shape[0]
    xs: list[float] = []
    ys: list[float] = []
    for depth in depths_ticks.tolist():
        first = int(np.searchsorted(reached, depth, side="left"))
        count = n - first
        if count < max(min_count, 1) or count >= steps:
            continue
        x = float(reached[first])
        if xs and x == xs[-1]:
            continue  # the same reach as the previous candidate: the same point
        xs.append(x)
        ys.append(math.log(-math.log1p(-count / steps) / step_s))
    a = k = r_squared = math.nan
    if len(xs) >= 2:
        x_arr, y_arr = np.asarray(xs), np.asarray(ys)
        slope, intercept = np.polyfit(x_arr, y_arr, 1)
        a, k = math.exp(float(intercept)), -float(slope)
        total = float(np.sum((y_arr - y_arr.mean()) ** 2))
        residual = float(np.sum((y_arr - (slope * x_arr + intercept)) ** 2))
        r_squared = 1.0 - residual / total if total > 0 else math.nan
    return IntensityFit(a, k, FitQuality(r_squared, len(xs), n, steps))


@frozen
class Calibration:
    """Fitted parameters (ticks, seconds) and how much data they rest on."""

    sigma_fast_ticks_per_sqrt_s: float
    sigma_mid_ticks_per_sqrt_s: float
    sigma_slow_ticks_per_sqrt_s: float
    bid_a_per_s: float
    bid_k_per_tick: float
    ask_a_per_s: float
    ask_k_per_tick: float
    steps: int
    trades: int
    suggested_gamma_per_tick: float
    bid_fit: FitQuality = _NO_FIT
    ask_fit: FitQuality = _NO_FIT

    def toml_snippet(self) -> str:
        """A `[strategy]` snippet with the fitted fallbacks and the suggested gamma."""
        a = 0.5 * (self.bid_a_per_s + self.ask_a_per_s)
        k = 0.5 * (self.bid_k_per_tick + self.ask_k_per_tick)
        return (
            "[strategy]\n"
            f"gamma_per_tick = {self.suggested_gamma_per_tick:.6g}\n"
            f"fallback_sigma_ticks_per_sqrt_s = {self.sigma_mid_ticks_per_sqrt_s:.6g}\n"
            f"fallback_a_per_s = {a:.6g}\n"
            f"fallback_k_per_tick = {k:.6g}\n"
        )


def glft_skew_per_unit(gamma: float, sigma: float, a: float, k: float) -> float:
    """C = sqrt(sigma^2 gamma / (2 k A) (1 + gamma/k)^(1 + k/gamma)), ticks per quote unit."""
    return math.sqrt(sigma**2 * gamma / (2 * k * a) * (1 + gamma / k) ** (1 + k / gamma))


def suggest_gamma(
    sigma: float, a: float, k: float, limit_units: float, target_ticks: float
) -> float:
    """The gamma whose skew at `limit_units` of inventory is `target_ticks` (bisection)."""
    low, high = math.log(1e-6), math.log(10.0)
    for _ in range(200):
        mid = 0.5 * (low + high)
        if glft_skew_per_unit(math.exp(mid), sigma, a, k) * limit_units > target_ticks:
            high = mid
        else:
            low = mid
    return math.exp(0.5 * (low + high))


def _farther(current: float, depth: float) -> float:
    return current if current >= depth else depth  # nan (no trade yet) is never >=


def calibrate(
    chunks: Iterable[Events],
    instrument: Instrument,
    params: EstimatorParams,
    *,
    limit_units: float,
    target_skew_ticks: float,
) -> Calibration:
    """Fit sigma, A and k over the event stream (see the module docstring)."""
    engine = MatchingEngine([instrument])
    estimator = MarketEstimator(params)
    step_ns = max(round(params.sample_interval_s * 1e9), 1)
    name = instrument.name
    pending = np.zeros((0, 3), dtype=np.int64)
    next_ns: int | None = None
    trades = 0
    grid_mid: float | None = None
    bid_reach: list[float] = []  # per grid step, farthest trade depth from the previous mid
    ask_reach: list[float] = []
    for chunk in chunks:
        engine.feed(name, chunk)
        traded = chunk[chunk["kind"] == TRADE_EVENT]
        new = np.empty((traded.shape[0], 3), dtype=np.int64)
        new[:, 0] = traded["exch_ts_ns"]
        new[:, 1] = traded["price_ticks"]
        new[:, 2] = traded["side"]
        pending = np.concatenate((pending, new))
        last = int(chunk["exch_ts_ns"][-1])
        if next_ns is None:
            next_ns = (int(chunk["exch_ts_ns"][0]) // step_ns + 1) * step_ns
        while next_ns < last:
            engine.advance_to(next_ns)
            end = int(np.searchsorted(pending[:, 0], next_ns, side="right"))
            bid_depth = ask_depth = math.nan
            for ts, price, side in pending[:end].tolist():
                estimator.on_trade(ts, float(price), side > 0)
                if grid_mid is not None and side > 0:
                    ask_depth = _farther(ask_depth, price - grid_mid)
                elif grid_mid is not None:
                    bid_depth = _farther(bid_depth, grid_mid - price)
            trades += end
            pending = pending[end:]
            if grid_mid is not None:
                bid_reach.append(bid_depth)
                ask_reach.append(ask_depth)
            mid = engine.top_of_book(name).mid_ticks
            if mid is not None:
                estimator.on_mid(next_ns, mid)
                grid_mid = mid
            next_ns += step_ns
    vol = estimator.volatility
    nan = math.nan
    window = max(2, round(params.intensity_window_s / params.sample_interval_s))
    depths = np.arange(
        params.intensity_min_depth_ticks,
        params.intensity_max_depth_ticks + 1e-9,
        params.intensity_depth_step_ticks,
    )
    bid, ask = (
        lattice_intensity_fit(
            np.asarray(reach[-window:], dtype=np.float64),
            params.sample_interval_s,
            depths,
            params.intensity_min_count,
        )
        for reach in (bid_reach, ask_reach)
    )
    sigma = vol.mid_ticks_per_sqrt_s if vol else nan
    a = 0.5 * (bid.a_per_s + ask.a_per_s)
    k = 0.5 * (bid.k_per_tick + ask.k_per_tick)
    gamma = nan
    if all(math.isfinite(x) and x > 0 for x in (sigma, a, k)):
        gamma = suggest_gamma(sigma, a, k, limit_units, target_skew_ticks)
    return Calibration(
        sigma_fast_ticks_per_sqrt_s=vol.fast_ticks_per_sqrt_s if vol else nan,
        sigma_mid_ticks_per_sqrt_s=sigma,
        sigma_slow_ticks_per_sqrt_s=vol.slow_ticks_per_sqrt_s if vol else nan,
        bid_a_per_s=bid.a_per_s,
        bid_k_per_tick=bid.k_per_tick,
        ask_a_per_s=ask.a_per_s,
        ask_k_per_tick=ask.k_per_tick,
        steps=estimator.steps_sampled,
        trades=trades,
        suggested_gamma_per_tick=gamma,
        bid_fit=bid.quality,
        ask_fit=ask.quality,
    )
