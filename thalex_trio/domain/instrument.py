"""Instruments and exact conversions between the exchange's floats and our integer grids.

Prices live in integer ticks and amounts in integer lots (one lot = `volume_tick_size`). The
exchange rounds every price and amount to 8 decimals before checking the grid (API.md §2.5); we
do the same, and refuse a value that is still off the grid rather than silently moving it.
"""

from __future__ import annotations

import math

from attrs import field, frozen

from thalex_trio.domain.enums import InstrumentKind, OptionType

_SCALE = 10**8  # the exchange's 8-decimal rounding, as an integer scale


class OffGridError(ValueError):
    """A price or amount that is not a multiple of its grid after rounding to 8 decimals."""

    def __init__(self, what: str, value: float, grid: float, instrument: str) -> None:
        super().__init__(f"{instrument}: {what} {value!r} is not a multiple of {grid!r}")
        self.what = what
        self.value = value
        self.grid = grid
        self.instrument = instrument


def to_e8(value: float) -> int:
    """`value` rounded to 8 decimals, as an integer count of 1e-8 (the exchange's rounding)."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return round(value * _SCALE)


def _positive_e8(value: float, name: str) -> int:
    scaled = to_e8(value)
    if scaled <= 0:
        raise ValueError(f"{name} must be > 0 after rounding to 8 decimals, got {value!r}")
    return scaled


@frozen
class Instrument:
    """A tradable instrument with its price and amount grids.

    `tick_size` is the price grid and `volume_tick_size` the amount grid (one lot). PnL of a
    price move of one tick on one lot is `tick_size * volume_tick_size` in the quote currency,
    since Thalex amounts are in units of the underlying.
    """

    name: str
    kind: InstrumentKind
    underlying: str
    tick_size: float
    volume_tick_size: float
    min_order_amount: float
    product: str | None = None
    expiration_timestamp_s: int | None = None
    strike_price: float | None = None
    option_type: OptionType | None = None
    tick_e8: int = field(init=False)
    lot_e8: int = field(init=False)
    min_order_lots: int = field(init=False)

    def __attrs_post_init__(self) -> None:
        tick_e8 = _positive_e8(self.tick_size, "tick_size")
        lot_e8 = _positive_e8(self.volume_tick_size, "volume_tick_size")
        min_e8 = to_e8(self.min_order_amount)
        if min_e8 < lot_e8:
            raise ValueError(
                f"{self.name}: min_order_amount {self.min_order_amount!r} is below "
                f"volume_tick_size {self.volume_tick_size!r}"
            )
        # Frozen attrs classes set derived slots through object.__setattr__ once, here.
        object.__setattr__(self, "tick_e8", tick_e8)
        object.__setattr__(self, "lot_e8", lot_e8)
        object.__setattr__(self, "min_order_lots", -(-min_e8 // lot_e8))
        if self.kind is InstrumentKind.OPTION and (
            self.strike_price is None or self.option_type is None
        ):
            raise ValueError(f"{self.name}: an option needs strike_price and option_type")

    # -- prices ------------------------------------------------------------------------------

    def price_to_ticks(self, price: float) -> int:
        """Exact number of ticks in `price`; raises OffGridError when it is off the tick grid."""
        scaled = to_e8(price)
        ticks, rest = divmod(scaled, self.tick_e8)
        if rest:
            raise OffGridError("price", price, self.tick_size, self.name)
        return ticks

    def ticks_to_price(self, ticks: int) -> float:
        """The wire float for `ticks`: the double nearest to the exact decimal price."""
        return ticks * self.tick_e8 / _SCALE

    def fractional_ticks(self, price: float) -> float:
        """`price` in (fractional) ticks, for off-grid values such as a mark or an index."""
        return to_e8(price) / self.tick_e8

    # -- amounts -----------------------------------------------------------------------------

    def amount_to_lots(self, amount: float) -> int:
        """Exact number of lots in `amount`; raises OffGridError when it is off the lot grid."""
        scaled = to_e8(amount)
        lots, rest = divmod(scaled, self.lot_e8)
        if rest:
            raise OffGridError("amount", amount, self.volume_tick_size, self.name)
        return lots

    def lots_to_amount(self, lots: int) -> float:
        """The wire float for `lots`."""
        return lots * self.lot_e8 / _SCALE

    # -- money -------------------------------------------------------------------------------

    @property
    def quote_per_tick_lot(self) -> float:
        """Quote-currency value of one tick on one lot (the unit of integer PnL)."""
        return self.tick_e8 * self.lot_e8 / (_SCALE * _SCALE)

    def notional(self, price_ticks: float, lots: int) -> float:
        """Quote-currency notional of `lots` at `price_ticks`."""
        return abs(price_ticks * lots) * self.quote_per_tick_lot
