"""Volatility and arrival intensity from the public market, on a fixed sampling grid.

Every `sample_interval_s` of exchange time closes one grid step: the mid change over the step
goes into the volatility ring, and the farthest depth a trade reached on each side (measured
from the mid at the step's start) goes into the intensity rings. Memory is bounded by the
slowest window. Values are None until the warm-up has passed, and clamped to the configured
bounds after it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen

from thalex_trio.kernels.intensity import depth_count_intensity_fit
from thalex_trio.kernels.volatility import window_drift_and_sigma

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from thalex_trio.strategy.params import EstimatorParams


@frozen
class IntensityFit:
    """lambda(delta) = A exp(-k delta) for one side: A in 1/s, k in 1/tick."""

    a_per_s: float
    k_per_tick: float


@frozen
class VolatilityEstimate:
    """Sigma in ticks/sqrt(s) over the fast, mid and slow windows, and slow drift in ticks/s."""

    fast_ticks_per_sqrt_s: float
    mid_ticks_per_sqrt_s: float
    slow_ticks_per_sqrt_s: float
    drift_ticks_per_s: float


def _steps(window_s: float, step_s: float) -> int:
    return max(2, round(window_s / step_s))


class MarketEstimator:
    """Grid sampler with multi-window sigma and per-side depth-count intensity fits."""

    def __init__(self, params: EstimatorParams) -> None:
        self.params = params
        self.step_s = params.sample_interval_s
        self._step_ns = max(1, round(params.sample_interval_s * 1e9))
        self._windows = (
            _steps(params.fast_window_s, self.step_s),
            _steps(params.mid_window_s, self.step_s),
            _steps(params.slow_window_s, self.step_s),
        )
        self._warmup_steps = max(2, math.ceil(params.warmup_s / self.step_s))
        self._diffs: NDArray[np.float64] = np.zeros(self._windows[2])
        self._diff_head = -1
        self._diff_filled = 0
        reach_steps = _steps(params.intensity_window_s, self.step_s)
        self._bid_reach: NDArray[np.float64] = np.full(reach_steps, np.nan)
        self._ask_reach: NDArray[np.float64] = np.full(reach_steps, np.nan)
        self._reach_head = -1
        self._reach_filled = 0
        self._depths: NDArray[np.float64] = np.arange(
            params.intensity_min_depth_ticks,
            params.intensity_max_depth_ticks + 1e-9,
            params.intensity_depth_step_ticks,
        )
        self._refit_steps = max(1, round(params.intensity_refit_interval_s / self.step_s))
        self._steps_since_refit = 0
        self._step_index: int | None = None
        self._grid_mid: float | None = None
        self._last_mid: float | None = None
        self._bid_step_reach = math.nan
        self._ask_step_reach = math.nan
        self._volatility: VolatilityEstimate | None = None
        # Sigma is recomputed when read after a step closed, not at every step: several steps
        # can close between two decisions, and each recomputation walks the slow window.
        self._volatility_stale = False
        self.bid_intensity: IntensityFit | None = None
        self.ask_intensity: IntensityFit | None = None

    @property
    def volatility(self) -> VolatilityEstimate | None:
        """Sigma over the three windows and the slow drift; None until warmed up."""
        if self._volatility_stale:
            self._volatility_stale = False
            self._update_volatility()
        return self._volatility

    @property
    def steps_sampled(self) -> int:
        """Grid steps closed so far (volatility samples, capped at the slow window)."""
        return self._diff_filled

    def on_mid(self, time_ns: int, mid_ticks: float) -> None:
        """A new mid price at exchange time `time_ns`."""
        self.advance_to(time_ns)
        self._last_mid = mid_ticks
        if self._grid_mid is None:
            self._grid_mid = mid_ticks

    def on_trade(self, time_ns: int, price_ticks: float, buyer_aggressor: bool) -> None:
        """A public trade: a buy reaches into the asks, a sell into the bids."""
        self.advance_to(time_ns)
        if self._grid_mid is None:
            return
        if buyer_aggressor:
            depth = price_ticks - self._grid_mid
            if not depth <= self._ask_step_reach:
                self._ask_step_reach = depth
        else:
            depth = self._grid_mid - price_ticks
            if not depth <= self._bid_step_reach:
                self._bid_step_reach = depth

    def advance_to(self, time_ns: int) -> None:
        """Close every grid step that ended at or before `time_ns` (older times are ignored)."""
        index = time_ns // self._step_ns
        if self._step_index is None:
            self._step_index = index
            return
        pending = index - self._step_index
        if pending <= 0 or self._grid_mid is None:
            self._step_index = max(index, self._step_index)
            return
        # A gap longer than the slowest ring only rewrites the whole ring with flat steps.
        for _ in range(min(pending, self._diffs.shape[0] + 1)):
            self._close_step()
        self._step_index = index
        self._volatility_stale = True
        if self._steps_since_refit >= self._refit_steps:
            self._refit_intensity()

    def _close_step(self) -> None:
        assert self._grid_mid is not None
        mid = self._last_mid if self._last_mid is not None else self._grid_mid
        self._diff_head = (self._diff_head + 1) % self._diffs.shape[0]
        self._diffs[self._diff_head] = mid - self._grid_mid
        self._diff_filled = min(self._diff_filled + 1, self._diffs.shape[0])
        self._reach_head = (self._reach_head + 1) % self._bid_reach.shape[0]
        self._bid_reach[self._reach_head] = self._bid_step_reach
        self._ask_reach[self._reach_head] = self._ask_step_reach
        self._reach_filled = min(self._reach_filled + 1, self._bid_reach.shape[0])
        self._bid_step_reach = math.nan
        self._ask_step_reach = math.nan
        self._grid_mid = mid
        self._steps_since_refit += 1

    def _update_volatility(self) -> None:
        if self._diff_filled < self._warmup_steps:
            return
        low = self.params.sigma_min_ticks_per_sqrt_s
        high = self.params.sigma_max_ticks_per_sqrt_s
        sigmas: list[float] = []
        drift = 0.0
        for window in self._windows:
            drift, sigma = window_drift_and_sigma(
                self._diffs, self._diff_head, self._diff_filled, window, self.step_s
            )
            sigmas.append(min(max(sigma, low), high))
        self._volatility = VolatilityEstimate(sigmas[0], sigmas[1], sigmas[2], drift)

    def _refit_intensity(self) -> None:
        self._steps_since_refit = 0
        if self._reach_filled < self._warmup_steps:
            return
        self.bid_intensity = self._fit(self._bid_reach)
        self.ask_intensity = self._fit(self._ask_reach)

    def _fit(self, reach: NDArray[np.float64]) -> IntensityFit | None:
        a, k, _ = depth_count_intensity_fit(
            reach, self._reach_filled, self.step_s, self._depths, self.params.intensity_min_count
        )
        if not (math.isfinite(a) and math.isfinite(k)) or k <= 0.0:
            return None
        params = self.params
        return IntensityFit(
            min(max(a, params.a_min_per_s), params.a_max_per_s),
            min(max(k, params.k_min_per_tick), params.k_max_per_tick),
        )
