"""Position and PnL by average cost, exact in integer tick-lots.

Cash, realised PnL and the average entry are kept as integers and `Fraction`s of tick-lots, so the
identity `realised + unrealised == cash + size * mark` holds exactly rather than to a tolerance.
Fees and funding are quote-currency floats kept apart: fees signed as a cost (a negative fee is a
rebate), funding signed as income (positive means we received it).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from attrs import evolve, frozen

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument

_ZERO = Fraction(0)


@frozen
class PnL:
    """PnL of a position at one mark, in the quote currency."""

    realised: float
    unrealised: float
    fees: float
    funding: float

    @property
    def total(self) -> float:
        """Realised + unrealised + funding - fees."""
        return self.realised + self.unrealised + self.funding - self.fees


@frozen
class Position:
    """Signed inventory in lots with its cash flows.

    `cash_tick_lots` is the exact sum of -side * lots * price over every fill; `avg_entry_ticks`
    is the average cost of the open size (zero when flat).
    """

    instrument_name: str
    size_lots: int = 0
    avg_entry_ticks: Fraction = _ZERO
    realised_tick_lots: Fraction = _ZERO
    cash_tick_lots: int = 0
    fees: float = 0.0
    funding: float = 0.0
    fill_count: int = 0

    def apply_fill(self, fill: Fill) -> Position:
        """The position after `fill`: closes against the average cost first, then opens."""
        if fill.instrument_name != self.instrument_name:
            raise ValueError(f"fill for {fill.instrument_name} applied to {self.instrument_name}")
        signed = fill.signed_lots
        size = self.size_lots
        avg = self.avg_entry_ticks
        realised = self.realised_tick_lots
        if size == 0 or (size > 0) == (signed > 0):
            # Opening or adding: the average cost absorbs the fill.
            new_size = size + signed
            avg = (avg * size + Fraction(fill.price_ticks) * signed) / new_size
        else:
            closed = min(abs(signed), abs(size))
            direction = 1 if size > 0 else -1
            realised += (fill.price_ticks - avg) * closed * direction
            new_size = size + signed
            if new_size == 0:
                avg = _ZERO
            elif (new_size > 0) != (size > 0):
                avg = Fraction(fill.price_ticks)  # flipped: the remainder opened at the fill
        return evolve(
            self,
            size_lots=new_size,
            avg_entry_ticks=avg,
            realised_tick_lots=realised,
            cash_tick_lots=self.cash_tick_lots - signed * fill.price_ticks,
            fees=self.fees + fill.fee,
            fill_count=self.fill_count + 1,
        )

    def apply_fee(self, amount: float) -> Position:
        """The position after a fee learnt apart from its fill (a cost; negative: a rebate)."""
        return evolve(self, fees=self.fees + amount)

    def apply_funding(self, amount: float) -> Position:
        """The position after a funding payment (positive = received), in the quote currency."""
        return evolve(self, funding=self.funding + amount)

    def unrealised_tick_lots(self, mark_ticks: Fraction) -> Fraction:
        """Mark-to-market of the open size against its average cost."""
        return (mark_ticks - self.avg_entry_ticks) * self.size_lots

    def pnl(self, instrument: Instrument, mark_price: float) -> PnL:
        """PnL in the quote currency at `mark_price`."""
        unit = instrument.quote_per_tick_lot
        mark_ticks = instrument.fractional_ticks(mark_price)
        unrealised = (mark_ticks - float(self.avg_entry_ticks)) * self.size_lots
        return PnL(
            realised=float(self.realised_tick_lots) * unit,
            unrealised=unrealised * unit,
            fees=self.fees,
            funding=self.funding,
        )
