"""Engine parameters: attrs values with validated plain fields, loadable from TOML as is."""

from __future__ import annotations

import enum

from attrs import field, frozen


def _non_negative(_instance: object, attribute: object, value: float) -> None:
    if value < 0:
        name = getattr(attribute, "name", "value")
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def _positive(_instance: object, attribute: object, value: float) -> None:
    if value <= 0:
        name = getattr(attribute, "name", "value")
        raise ValueError(f"{name} must be > 0, got {value!r}")


def _optional_fraction(_instance: object, attribute: object, value: float | None) -> None:
    if value is not None and not 0 < value < 1:
        name = getattr(attribute, "name", "value")
        raise ValueError(f"{name} must be in (0, 1) or absent, got {value!r}")


class QueueModel(enum.Enum):
    """How the queue ahead of a resting order shrinks (MODELS.md §6)."""

    CONSERVATIVE = "conservative"
    """Only trades at our price shrink the queue ahead (it is also capped at the displayed size)."""
    POWER_PROB = "power_prob"
    """Unexplained decreases are split ahead/behind with p = back^n / (back^n + front^n)."""


class LatencyKind(enum.Enum):
    """Shape of a latency distribution."""

    CONSTANT = "constant"
    LOGNORMAL = "lognormal"


class CancelledRemaining(enum.Enum):
    """What `remaining_amount` a cancelled order reports; API.md §5.4 is ambiguous."""

    ZERO = "zero"
    """0, as the field description says ("if 0, order is now inactive")."""
    UNCHANGED = "unchanged"
    """The amount that was left when it was cancelled, as in the spec's example."""


@frozen
class Latency:
    """One latency: a constant, or a lognormal with median `median_ns` and log-sd `sigma`.

    Samples are at least `floor_ns`.
    """

    kind: LatencyKind = LatencyKind.CONSTANT
    median_ns: int = field(default=0, validator=_non_negative)
    sigma: float = field(default=0.0, validator=_non_negative)
    floor_ns: int = field(default=0, validator=_non_negative)


@frozen
class Fees:
    """Fee rates as a fraction of notional per fill; a negative rate is a rebate."""

    maker_rate: float = -0.0001
    taker_rate: float = 0.0003


_HOUR_NS = 3_600 * 10**9


@frozen
class EngineParams:
    """Everything that shapes the simulated exchange.

    Funding: Thalex accrues perpetual funding continuously; the engine settles it every
    `funding_interval_ns` on the position at that moment as
    `-funding_rate * (funding_interval_ns / funding_rate_period_ns) * mark * amount`,
    so a short interval approximates continuous accrual (positive rate: longs pay).
    """

    queue_model: QueueModel = QueueModel.CONSERVATIVE
    power_n: float = field(default=3.0, validator=_positive)
    entry_latency: Latency = Latency()
    response_latency: Latency = Latency()
    fees: Fees = Fees()
    funding_interval_ns: int = field(default=60 * 10**9, validator=_positive)
    funding_rate_period_ns: int = field(default=8 * _HOUR_NS, validator=_positive)
    cancelled_remaining: CancelledRemaining = CancelledRemaining.ZERO
    book_window_ticks: int = field(default=1 << 18, validator=_positive)
    seed: int = field(default=0, validator=_non_negative)
    collar_fraction: float | None = field(default=None, validator=_optional_fraction)
    """Half-width of each instrument's price collar as a fraction of its mark (None: no
    collar). Bids above mark * (1 + fraction) and asks below mark * (1 - fraction) meet the
    order's `collar` policy (API.md §5.2); until a mark is known there is no collar. Thalex
    does not publish its collar widths, so the simulator's value is an assumption."""
