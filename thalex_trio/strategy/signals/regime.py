"""Market regimes from multi-window volatility, trend and liquidity (MODELS.md §5)."""

from __future__ import annotations

import enum
import math
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:
    from thalex_trio.strategy.estimators.market import VolatilityEstimate
    from thalex_trio.strategy.params import RegimeAdjustment, RegimeParams


class Regime(enum.Enum):
    """Quiet quotes normally; Volatile wider with more risk aversion; Trending skews harder;
    Illiquid quotes smaller and wider."""

    QUIET = "quiet"
    VOLATILE = "volatile"
    TRENDING = "trending"
    ILLIQUID = "illiquid"


def trend_sigmas(volatility: VolatilityEstimate, slow_window_s: float) -> float:
    """The slow-window drift as a move over the window in slow sigmas (dimensionless).

    |drift ticks/s| * window s / (sigma ticks/sqrt(s) * sqrt(window s)). For a driftless
    Brownian mid the estimate is distributed as |N(0, 1)|, so thresholds of 2 to 3 flag trends.
    """
    sigma = volatility.slow_ticks_per_sqrt_s
    if sigma <= 0.0:
        return 0.0
    return abs(volatility.drift_ticks_per_s) * math.sqrt(slow_window_s) / sigma


def classify_regime(
    params: RegimeParams,
    volatility: VolatilityEstimate | None,
    slow_window_s: float,
    spread_ticks: int | None,
    arrival_per_s: float | None,
) -> Regime:
    """The regime, checked in priority order Illiquid, Volatile, Trending, else Quiet.

    Before the volatility warm-up only the liquidity checks can fire; `arrival_per_s` is the
    smaller fitted A of the two sides, None while unfitted.
    """
    if not params.enabled:
        return Regime.QUIET
    if spread_ticks is not None and spread_ticks >= params.illiquid_spread_ticks:
        return Regime.ILLIQUID
    if arrival_per_s is not None and arrival_per_s < params.illiquid_min_arrival_per_s:
        return Regime.ILLIQUID
    if volatility is None:
        return Regime.QUIET
    fast = volatility.fast_ticks_per_sqrt_s
    if fast >= params.volatile_sigma_ticks_per_sqrt_s:
        return Regime.VOLATILE
    slow = volatility.slow_ticks_per_sqrt_s
    if slow > 0.0 and fast / slow >= params.volatile_fast_to_slow_ratio:
        return Regime.VOLATILE
    if trend_sigmas(volatility, slow_window_s) >= params.trending_drift_sigmas:
        return Regime.TRENDING
    return Regime.QUIET


def regime_adjustment(params: RegimeParams, regime: Regime) -> RegimeAdjustment:
    """The configured multipliers of `regime`."""
    match regime:
        case Regime.QUIET:
            return params.quiet
        case Regime.VOLATILE:
            return params.volatile
        case Regime.TRENDING:
            return params.trending
        case Regime.ILLIQUID:
            return params.illiquid
        case _:
            assert_never(regime)
