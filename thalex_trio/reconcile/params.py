"""Reconciler settings: the quoting style, requote hygiene and the safety limits it enforces.

Plain field types with defaults, so the config loader can build them from TOML; validators
refuse nonsense with the offending value in the message.
"""

from __future__ import annotations

import enum

from attrs import Attribute, field, frozen


class ReconcileStyle(enum.Enum):
    """How the plan talks to the venue: single-order verbs or one mass quote per instrument."""

    ORDERS = "orders"
    MASS_QUOTE = "mass_quote"


def _positive(_instance: object, attribute: Attribute[int], value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value}")


def _non_negative(_instance: object, attribute: Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _positive_or_none(
    _instance: object, attribute: Attribute[float | None], value: float | None
) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be > 0 or unset, got {value}")


def _positive_lots_or_none(
    _instance: object, attribute: Attribute[int | None], value: int | None
) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be > 0 or unset, got {value}")


@frozen
class ReconcileParams:
    """Requote hygiene (MODELS.md §3).

    - `amend_threshold_ticks`: a resting order is left alone while it sits less than this many
      ticks *behind* its desired price and still ahead of the next level (never ahead of its
      own: a tolerance may make us less aggressive, never more); 1 acts on any price change.
    - `size_tolerance_lots`: a resting order's remaining size may differ from the desired size
      by this much before it is amended.
    - `post_only`: inserts are post-only, and no price we send crosses the opposite best.
    - `max_order_age_s`: in the orders style, an acknowledged order older than this (since its
      insert or last amend) is cancelled and its level placed afresh; unset disables it.
    """

    style: ReconcileStyle = ReconcileStyle.ORDERS
    amend_threshold_ticks: int = field(default=1, validator=_positive)
    size_tolerance_lots: int = field(default=0, validator=_non_negative)
    post_only: bool = True
    max_order_age_s: float | None = field(default=None, validator=_positive_or_none)


@frozen
class ReconcileLimits:
    """Hard limits the plan never breaks, whatever the desired ladder asks for.

    - `max_exposure_lots`: per side, position plus every resting and in-flight order that could
      still fill on that side, at its worst case (DESIGN.md §4). Unset disables it.
    - `max_order_lots`: no single order larger than this. Unset disables it.
    """

    max_exposure_lots: int | None = field(default=None, validator=_positive_lots_or_none)
    max_order_lots: int | None = field(default=None, validator=_positive_lots_or_none)
