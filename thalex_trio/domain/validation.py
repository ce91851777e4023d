"""attrs field validators with the house message format: "must be > 0, got -1".

The configuration loader prefixes the field's path, so a bad file reads
`strategy.gamma: must be > 0, got -1`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Collection


def positive(_instance: object, _attribute: object, value: float) -> None:
    """Value must be strictly positive."""
    if not value > 0:
        raise ValueError(f"must be > 0, got {value!r}")


def non_negative(_instance: object, _attribute: object, value: float) -> None:
    """Value must be zero or more."""
    if not value >= 0:
        raise ValueError(f"must be >= 0, got {value!r}")


def between(low: float, high: float) -> Callable[[object, object, float], None]:
    """Value must lie in the closed interval [low, high]."""

    def check(_instance: object, _attribute: object, value: float) -> None:
        if not low <= value <= high:
            raise ValueError(f"must be between {low!r} and {high!r}, got {value!r}")

    return check


def one_of(allowed: Collection[str]) -> Callable[[object, object, str], None]:
    """Value must be one of `allowed`."""

    def check(_instance: object, _attribute: object, value: str) -> None:
        if value not in allowed:
            raise ValueError(f"must be one of {sorted(allowed)}, got {value!r}")

    return check
