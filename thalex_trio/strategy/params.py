"""Strategy, estimator, regime and signal parameters: frozen, validated, loadable from TOML.

Fields are plain types (numbers, bools, enums, nested frozen classes) so the config module can
structure them from TOML. Every field has a default; a bad value raises ValueError naming the
field, the rule and the value ("gamma_per_tick must be > 0, got -1"). Inventory in the models is
in quote units: position_lots / size_lots.
"""

from __future__ import annotations

import enum
import math
from typing import TYPE_CHECKING

from attrs import Attribute, field, frozen

if TYPE_CHECKING:
    from collections.abc import Callable


class QuoteModel(enum.Enum):
    """Which closed form prices the quotes."""

    GLFT = "glft"
    AVELLANEDA_STOIKOV = "avellaneda_stoikov"
    GLFT_BOUNDED = "glft_bounded"


class FairValueSource(enum.Enum):
    """The reference price s the quotes are centred on."""

    MID = "mid"
    MICROPRICE = "microprice"
    MARK = "mark"
    INDEX = "index"
    EXTERNAL = "external"


def _rule(
    check: Callable[[float], bool], text: str
) -> Callable[[object, Attribute[float], float], None]:
    def validate(_instance: object, attribute: Attribute[float], value: float) -> None:
        if not (math.isfinite(value) and check(value)):
            raise ValueError(f"{attribute.name} must be {text}, got {value!r}")

    return validate


def _int_rule(minimum: int) -> Callable[[object, Attribute[int], int], None]:
    def validate(_instance: object, attribute: Attribute[int], value: int) -> None:
        if value < minimum:
            raise ValueError(f"{attribute.name} must be >= {minimum}, got {value!r}")

    return validate


_positive = _rule(lambda v: v > 0, "> 0")
_non_negative = _rule(lambda v: v >= 0, ">= 0")
_at_least_one = _int_rule(1)
_finite = _rule(lambda v: True, "finite")
_hundredth = _rule(lambda v: v >= 0.01, ">= 0.01")


def _ordered(low: str, high: str, values: tuple[float, float]) -> None:
    if values[0] > values[1]:
        raise ValueError(f"{low} must be <= {high}, got {values[0]!r} > {values[1]!r}")


@frozen
class StrategyParams:
    """How quotes are priced and sized (MODELS.md §1-3)."""

    model: QuoteModel = QuoteModel.GLFT
    fair_value: FairValueSource = FairValueSource.MID
    gamma_per_tick: float = field(default=0.05, validator=_positive)
    levels_per_side: int = field(default=3, validator=_at_least_one)
    level_spacing_ticks: float = field(default=1.0, validator=_non_negative)
    level_spacing_half_spread_fraction: float = field(default=0.0, validator=_non_negative)
    size_lots: int = field(default=1, validator=_at_least_one)
    size_growth_per_level: float = field(default=1.0, validator=_positive)
    size_eta_per_unit: float = field(default=0.0, validator=_non_negative)
    min_half_spread_ticks: float = field(default=0.5, validator=_hundredth)
    maker_fee_rate: float = field(default=0.0, validator=_finite)
    post_only: bool = True
    position_limit_lots: int = field(default=100, validator=_at_least_one)
    half_spread_multiplier: float = field(default=1.0, validator=_positive)
    skew_multiplier: float = field(default=1.0, validator=_non_negative)
    drift_ticks_per_s: float = field(default=0.0, validator=_finite)
    use_estimated_drift: bool = False
    adverse_selection_ticks: float = field(default=0.0, validator=_non_negative)
    as_window_s: float = field(default=60.0, validator=_positive)
    bounded_horizon_s: float = field(default=3600.0, validator=_positive)
    fallback_sigma_ticks_per_sqrt_s: float = field(default=1.0, validator=_positive)
    fallback_a_per_s: float = field(default=1.0, validator=_positive)
    fallback_k_per_tick: float = field(default=0.5, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.position_limit_lots < self.size_lots:
            raise ValueError(
                f"position_limit_lots must be >= size_lots, got {self.position_limit_lots!r}"
                f" < {self.size_lots!r}"
            )


@frozen
class EstimatorParams:
    """Sampling grid, windows, warm-up and bounds of the online estimators (MODELS.md §4)."""

    sample_interval_s: float = field(default=0.1, validator=_positive)
    fast_window_s: float = field(default=30.0, validator=_positive)
    mid_window_s: float = field(default=120.0, validator=_positive)
    slow_window_s: float = field(default=600.0, validator=_positive)
    warmup_s: float = field(default=30.0, validator=_non_negative)
    intensity_window_s: float = field(default=300.0, validator=_positive)
    intensity_refit_interval_s: float = field(default=5.0, validator=_positive)
    intensity_min_depth_ticks: float = field(default=0.5, validator=_non_negative)
    intensity_max_depth_ticks: float = field(default=10.0, validator=_positive)
    intensity_depth_step_ticks: float = field(default=0.5, validator=_positive)
    intensity_min_count: int = field(default=10, validator=_at_least_one)
    sigma_min_ticks_per_sqrt_s: float = field(default=0.01, validator=_positive)
    sigma_max_ticks_per_sqrt_s: float = field(default=1000.0, validator=_positive)
    a_min_per_s: float = field(default=0.001, validator=_positive)
    a_max_per_s: float = field(default=1000.0, validator=_positive)
    k_min_per_tick: float = field(default=0.001, validator=_positive)
    k_max_per_tick: float = field(default=10.0, validator=_positive)
    own_fill_mle: bool = True
    own_fill_min_fills: int = field(default=20, validator=_at_least_one)
    own_fill_max_segments: int = field(default=4096, validator=_at_least_one)

    def __attrs_post_init__(self) -> None:
        _ordered("fast_window_s", "mid_window_s", (self.fast_window_s, self.mid_window_s))
        _ordered("mid_window_s", "slow_window_s", (self.mid_window_s, self.slow_window_s))
        _ordered("sample_interval_s", "fast_window_s", (self.sample_interval_s, self.fast_window_s))
        _ordered(
            "intensity_min_depth_ticks",
            "intensity_max_depth_ticks",
            (self.intensity_min_depth_ticks, self.intensity_max_depth_ticks),
        )
        _ordered(
            "sigma_min_ticks_per_sqrt_s",
            "sigma_max_ticks_per_sqrt_s",
            (self.sigma_min_ticks_per_sqrt_s, self.sigma_max_ticks_per_sqrt_s),
        )
        _ordered("a_min_per_s", "a_max_per_s", (self.a_min_per_s, self.a_max_per_s))
        _ordered("k_min_per_tick", "k_max_per_tick", (self.k_min_per_tick, self.k_max_per_tick))


@frozen
class RegimeAdjustment:
    """Multipliers one regime applies to gamma, the half-spread, the skew and the level sizes."""

    gamma_multiplier: float = field(default=1.0, validator=_positive)
    spread_multiplier: float = field(default=1.0, validator=_positive)
    skew_multiplier: float = field(default=1.0, validator=_non_negative)
    size_multiplier: float = field(default=1.0, validator=_non_negative)
    """Level sizes are scaled and rounded down to whole lots, but never below the instrument's
    minimum order: a regime makes quotes smaller, not absent. 0 stands aside (no quotes)."""


@frozen
class RegimeParams:
    """Regime thresholds, in the estimators' own units, and each regime's adjustment.

    Volatile: fast sigma >= `volatile_sigma_ticks_per_sqrt_s`, or fast / slow sigma >=
    `volatile_fast_to_slow_ratio`. Trending: |slow drift| * sqrt(slow window) / slow sigma (the
    move over the slow window in sigmas) >= `trending_drift_sigmas`. Illiquid: spread >=
    `illiquid_spread_ticks`, or the fitted trade arrival A (1/s, either side) below
    `illiquid_min_arrival_per_s`.
    """

    enabled: bool = True
    volatile_sigma_ticks_per_sqrt_s: float = field(default=20.0, validator=_positive)
    volatile_fast_to_slow_ratio: float = field(default=1.5, validator=_positive)
    trending_drift_sigmas: float = field(default=2.0, validator=_positive)
    illiquid_spread_ticks: float = field(default=20.0, validator=_positive)
    illiquid_min_arrival_per_s: float = field(default=0.01, validator=_non_negative)
    quiet: RegimeAdjustment = RegimeAdjustment()
    volatile: RegimeAdjustment = RegimeAdjustment(
        gamma_multiplier=2.0, spread_multiplier=1.5, size_multiplier=0.75
    )
    trending: RegimeAdjustment = RegimeAdjustment(spread_multiplier=1.1, skew_multiplier=1.5)
    illiquid: RegimeAdjustment = RegimeAdjustment(
        gamma_multiplier=1.5, spread_multiplier=1.5, size_multiplier=0.5
    )


@frozen
class SignalParams:
    """Volume candles, order-flow pressure and the options expected move (MODELS.md §5)."""

    candle_volume_lots: int = field(default=100, validator=_at_least_one)
    pressure_window_candles: int = field(default=10, validator=_at_least_one)
    pressure_max_shift_ticks: float = field(default=1.0, validator=_non_negative)
    score_window_candles: int = field(default=20, validator=_at_least_one)
    options_min_days: float = field(default=7.0, validator=_non_negative)
    options_vol_floor_fraction: float = field(default=0.0, validator=_non_negative)
    options_widen_ratio: float = field(default=1.5, validator=_positive)
    options_widen_multiplier: float = field(default=1.25, validator=_positive)
    options_tighten_ratio: float = field(default=0.67, validator=_positive)
    options_tighten_multiplier: float = field(default=0.9, validator=_positive)

    def __attrs_post_init__(self) -> None:
        _ordered(
            "options_tighten_ratio",
            "options_widen_ratio",
            (self.options_tighten_ratio, self.options_widen_ratio),
        )
