"""The configured quote model as per-side (half-spread, skew) components, in ticks.

bid depth = half_b + skew_b and ask depth = half_a - skew_a from fair, before multipliers. Each
side uses its own fitted A and k. For the bounded GLFT model the half-spread is the depth at
q = 0 and the skew is the change the inventory makes to it, so the multipliers mean the same
thing for every model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, assert_never

import numpy as np

from thalex_trio.kernels.avellaneda_stoikov import as_half_spread_and_skew_ticks
from thalex_trio.kernels.dispatch import compiled_entry_point
from thalex_trio.kernels.glft import (
    glft_bounded_depths_ticks,
    glft_quote_coefficients_ticks,
    glft_skew_ticks,
)
from thalex_trio.strategy.params import QuoteModel

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from thalex_trio.strategy.estimators.market import IntensityFit
    from thalex_trio.strategy.params import StrategyParams


def as_time_to_horizon_s(now_s: float, window_s: float) -> float:
    """T - t of a rolling Avellaneda-Stoikov window: the horizon resets every `window_s`."""
    return window_s - math.fmod(now_s, window_s)


class _BoundedTable:
    """Bounded-GLFT depths for every inventory, recomputed only when an input changes."""

    def __init__(self, max_inventory: int) -> None:
        self.max_inventory = max_inventory
        self.bid_depth_ticks: NDArray[np.float64] = np.empty(2 * max_inventory + 1)
        self.ask_depth_ticks: NDArray[np.float64] = np.empty(2 * max_inventory + 1)
        self._inputs: tuple[float, float, float, float, float] | None = None

    def refresh(self, gamma: float, sigma: float, a: float, k: float, horizon_s: float) -> None:
        inputs = (gamma, sigma, a, k, horizon_s)
        if inputs != self._inputs:
            glft_bounded_depths_ticks(
                self.max_inventory,
                gamma,
                sigma,
                a,
                k,
                horizon_s,
                self.bid_depth_ticks,
                self.ask_depth_ticks,
            )
            self._inputs = inputs


class _GlftCoefficients:
    """GLFT (half-spread, C', drift units) for one side, recomputed only when an input changes.

    The estimates move far less often than decisions are taken, so most decisions pay for one
    tuple comparison instead of the six-argument coefficient kernel.
    """

    __slots__ = ("_inputs", "coefficients")

    def __init__(self) -> None:
        self._inputs: tuple[float, float, float, float, float, float] | None = None
        self.coefficients = (0.0, 0.0, 0.0)

    def refresh(
        self, gamma: float, sigma: float, a: float, k: float, drift: float, xi: float
    ) -> tuple[float, float, float]:
        inputs = (gamma, sigma, a, k, drift, xi)
        if inputs != self._inputs:
            # float() because the entry point takes exactly float64 (a config value may be int).
            self.coefficients = _glft_coefficients(
                float(gamma), float(sigma), float(a), float(k), float(drift), float(xi)
            )
            self._inputs = inputs
        return self.coefficients


_glft_coefficients = compiled_entry_point(glft_quote_coefficients_ticks)
_glft_skew = compiled_entry_point(glft_skew_ticks)


class DepthModel:
    """Evaluates the configured model for one decision."""

    def __init__(self, params: StrategyParams) -> None:
        self.params = params
        max_inventory = max(1, params.position_limit_lots // params.size_lots)
        self._bid_table = _BoundedTable(max_inventory)
        self._ask_table = _BoundedTable(max_inventory)
        self._bid_glft = _GlftCoefficients()
        self._ask_glft = _GlftCoefficients()

    def components(
        self,
        now_s: float,
        inventory: float,
        gamma_per_tick: float,
        sigma_ticks_per_sqrt_s: float,
        bid_fit: IntensityFit,
        ask_fit: IntensityFit,
        drift_ticks_per_s: float,
    ) -> tuple[float, float, float, float]:
        """(half_b, skew_b, half_a, skew_a); a skew of +-inf means that side is not quoted."""
        params = self.params
        model = params.model
        match model:
            case QuoteModel.GLFT:
                xi = params.adverse_selection_ticks
                half_b, c_b, units_b = self._bid_glft.refresh(
                    gamma_per_tick,
                    sigma_ticks_per_sqrt_s,
                    bid_fit.a_per_s,
                    bid_fit.k_per_tick,
                    drift_ticks_per_s,
                    xi,
                )
                inventory = float(inventory)
                skew_b = _glft_skew(inventory, c_b, units_b)
                if ask_fit == bid_fit:
                    return half_b, skew_b, half_b, skew_b
                half_a, c_a, units_a = self._ask_glft.refresh(
                    gamma_per_tick,
                    sigma_ticks_per_sqrt_s,
                    ask_fit.a_per_s,
                    ask_fit.k_per_tick,
                    drift_ticks_per_s,
                    xi,
                )
                return half_b, skew_b, half_a, _glft_skew(inventory, c_a, units_a)
            case QuoteModel.AVELLANEDA_STOIKOV:
                tau = as_time_to_horizon_s(now_s, params.as_window_s)
                half_b, skew_b = as_half_spread_and_skew_ticks(
                    inventory, gamma_per_tick, sigma_ticks_per_sqrt_s, bid_fit.k_per_tick, tau
                )
                half_a, skew_a = as_half_spread_and_skew_ticks(
                    inventory, gamma_per_tick, sigma_ticks_per_sqrt_s, ask_fit.k_per_tick, tau
                )
                return half_b, skew_b, half_a, skew_a
            case QuoteModel.GLFT_BOUNDED:
                return self._bounded(
                    inventory, gamma_per_tick, sigma_ticks_per_sqrt_s, bid_fit, ask_fit
                )
            case _:
                assert_never(model)

    def _bounded(
        self,
        inventory: float,
        gamma: float,
        sigma: float,
        bid_fit: IntensityFit,
        ask_fit: IntensityFit,
    ) -> tuple[float, float, float, float]:
        horizon = self.params.bounded_horizon_s
        bid_table = self._bid_table
        ask_table = self._ask_table
        bid_table.refresh(gamma, sigma, bid_fit.a_per_s, bid_fit.k_per_tick, horizon)
        ask_table.refresh(gamma, sigma, ask_fit.a_per_s, ask_fit.k_per_tick, horizon)
        top = bid_table.max_inventory
        q = min(max(round(inventory), -top), top)
        half_b = float(bid_table.bid_depth_ticks[top])
        half_a = float(ask_table.ask_depth_ticks[top])
        skew_b = float(bid_table.bid_depth_ticks[q + top]) - half_b
        skew_a = half_a - float(ask_table.ask_depth_ticks[q + top])
        return half_b, skew_b, half_a, skew_a
