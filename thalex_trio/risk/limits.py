"""Risk limits from config. Every limit is optional: unset (None) disables it.

Units are in the names: lots, seconds, and the quote currency for money (`max_notional`,
`max_drawdown`, `stop_loss`, `take_profit`).
"""

from __future__ import annotations

from attrs import Attribute, field, frozen


def _positive_or_none(
    _instance: object, attribute: Attribute[float | None], value: float | None
) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be > 0 or unset, got {value}")


def _lots_or_none(_instance: object, attribute: Attribute[int | None], value: int | None) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be > 0 or unset, got {value}")


def _count_or_none(_instance: object, attribute: Attribute[int | None], value: int | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0 or unset, got {value}")


def _positive_int(_instance: object, attribute: Attribute[int], value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value}")


def _positive(_instance: object, attribute: Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value}")


def _non_negative(_instance: object, attribute: Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


@frozen
class RiskLimits:
    """What the risk evaluator holds the bot to, and how it recovers.

    Position and exposure (REDUCING while breached):
    - `max_position_lots`: |position|.
    - `max_notional`: |position| x mark, in the quote currency.
    - `max_exposure_lots`: per side, position plus every resting and in-flight order at its
      worst case (the same quantity the reconciler budgets against).
    Health (REDUCING while breached):
    - `max_market_data_age_s`: time since the last market data.
    - `max_round_trip_s`: the latest measured request round trip.
    - `max_rejects_per_window`, `max_throttles_per_window`: rejected and throttled requests in
      the last `rate_window_s` seconds.
    Money and faults (HALTED, terminal for the process):
    - `max_drawdown`: PnL below its running peak (trailing).
    - `stop_loss`: PnL at or below minus this.
    - `max_order_lots`: any live order larger than this (an upstream bug).
    - `max_disconnects`: disconnects in the last `disconnect_window_s` seconds.
    Take profit (REDUCING, latched: flatten and stay flat for the rest of the process):
    - `take_profit`: PnL at or above this.
    Recovery after a REDUCING episode: `cooldown_s` after the last breach, trading resumes at
    1/`recovery_steps` of full size, one more step every `recovery_step_s`.
    A REDUCING episode that lasts `max_reducing_s` (breached without a pause) stops the process
    as a REDUCING-class breach (exit 10) with every order cancelled: a limit that stays crossed
    is a problem for a human, not for reduce-only quoting. None keeps reducing indefinitely.
    """

    max_position_lots: int | None = field(default=None, validator=_lots_or_none)
    max_notional: float | None = field(default=None, validator=_positive_or_none)
    max_exposure_lots: int | None = field(default=None, validator=_lots_or_none)
    max_order_lots: int | None = field(default=None, validator=_lots_or_none)
    max_drawdown: float | None = field(default=None, validator=_positive_or_none)
    stop_loss: float | None = field(default=None, validator=_positive_or_none)
    take_profit: float | None = field(default=None, validator=_positive_or_none)
    max_market_data_age_s: float | None = field(default=None, validator=_positive_or_none)
    max_round_trip_s: float | None = field(default=None, validator=_positive_or_none)
    max_rejects_per_window: int | None = field(default=None, validator=_count_or_none)
    max_throttles_per_window: int | None = field(default=None, validator=_count_or_none)
    rate_window_s: float = field(default=60.0, validator=_positive)
    max_disconnects: int | None = field(default=None, validator=_count_or_none)
    disconnect_window_s: float = field(default=3600.0, validator=_positive)
    cooldown_s: float = field(default=30.0, validator=_non_negative)
    recovery_steps: int = field(default=4, validator=_positive_int)
    recovery_step_s: float = field(default=10.0, validator=_non_negative)
    max_reducing_s: float | None = field(default=None, validator=_positive_or_none)
