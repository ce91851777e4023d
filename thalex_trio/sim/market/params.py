"""Parameters of the synthetic market: attrs values with plain, validated fields (TOML-ready).

Units follow MODELS.md: sigma in ticks per sqrt(second), A per second, k per tick.
"""

from __future__ import annotations

from attrs import field, frozen


def _non_negative(_instance: object, attribute: object, value: float) -> None:
    if value < 0:
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be >= 0, got {value!r}")


def _positive(_instance: object, attribute: object, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be > 0, got {value!r}")


def _probability(_instance: object, attribute: object, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be in [0, 1], got {value!r}")


@frozen
class Regime:
    """A market regime: multipliers on sigma and arrival rate A, plus a drift in ticks/s."""

    name: str
    sigma_mult: float = field(default=1.0, validator=_non_negative)
    arrival_mult: float = field(default=1.0, validator=_non_negative)
    drift_ticks_per_s: float = 0.0


QUIET = Regime("quiet")
VOLATILE = Regime("volatile", sigma_mult=3.0, arrival_mult=2.0)
TRENDING = Regime("trending", drift_ticks_per_s=2.0)


@frozen
class OptionChainParams:
    """A small option chain around the money for the first expiries (daily 08:00 UTC grid)."""

    expiry_days: tuple[int, ...] = (1, 2, 7)
    strikes_each_side: int = field(default=3, validator=_non_negative)
    strike_step: float = field(default=1000.0, validator=_positive)
    iv: float = field(default=0.5, validator=_positive)
    smile: float = field(default=2.0, validator=_non_negative)
    """iv(K) = iv * (1 + smile * ln(K/F)^2)."""


@frozen
class SyntheticParams:
    """The synthetic perpetual market: a mid random walk, a refilling book, market orders
    arriving at rate A exp(-k delta) per side, optional regimes and jumps, references."""

    seed: int = field(default=0, validator=_non_negative)
    instrument_name: str = "BTC-PERPETUAL"
    underlying: str = "BTCUSD"
    tick_size: float = field(default=1.0, validator=_positive)
    lot_size: float = field(default=0.001, validator=_positive)
    start_ns: int = 1_720_000_000 * 10**9
    initial_price: float = field(default=60_000.0, validator=_positive)
    step_ms: int = field(default=100, validator=_positive)
    sigma_ticks_per_sqrt_s: float = field(default=4.0, validator=_non_negative)
    arrival_a_per_s: float = field(default=2.0, validator=_non_negative)
    arrival_k_per_tick: float = field(default=0.3, validator=_positive)
    half_spread_ticks: float = field(default=0.5, validator=_non_negative)
    depth_levels: int = field(default=25, validator=_positive)
    level_lots: int = field(default=200, validator=_positive)
    level_lots_growth: float = field(default=0.2, validator=_non_negative)
    """Depth profile: the level i ticks behind the touch shows level_lots * (1 + growth * i)."""
    refill_probability: float = field(default=0.3, validator=_probability)
    """Chance per step that an emptied level shows its profile size again."""
    regimes: tuple[Regime, ...] = ()
    regime_switch_probability: float = field(default=0.0, validator=_probability)
    """Chance per step of switching to a uniformly drawn regime (with regimes configured)."""
    jump_rate_per_s: float = field(default=0.0, validator=_non_negative)
    jump_sigma_ticks: float = field(default=0.0, validator=_non_negative)
    index_basis_ticks: float = 0.0
    """Mark minus index, in ticks."""
    funding_rate: float = 0.0001
    reference_interval_ms: int = field(default=1000, validator=_positive)
    options: OptionChainParams | None = OptionChainParams()
