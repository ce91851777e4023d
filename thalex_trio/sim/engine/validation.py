"""Wire floats to ticks and lots with the exchange's checks and error codes (API.md §13 item 10):
round to 8 decimals, then the price (13 non-positive, 15 off the tick grid) before the amount
(14 off the lot grid or below the minimum)."""

from __future__ import annotations

import math

from thalex_trio.domain.instrument import Instrument, OffGridError, to_e8
from thalex_trio.sim.engine.reports import ErrorCode, Rejection


def price_ticks(instrument: Instrument, price: float) -> int | Rejection:
    """The price in ticks, or the exchange's rejection."""
    if not math.isfinite(price) or to_e8(price) <= 0:
        return Rejection(ErrorCode.INVALID_PRICE, f"price {price!r} must be positive")
    try:
        return instrument.price_to_ticks(price)
    except OffGridError:
        return Rejection(
            ErrorCode.PRICE_NOT_ALIGNED,
            f"price {price!r} is not a multiple of tick size {instrument.tick_size!r}",
        )


def amount_lots(
    instrument: Instrument, amount: float, *, allow_zero: bool = False
) -> int | Rejection:
    """The amount in lots, or the exchange's rejection (`allow_zero` for mass-quote deletes)."""
    if not math.isfinite(amount):
        return Rejection(ErrorCode.INVALID_AMOUNT, f"amount {amount!r} is not a number")
    try:
        lots = instrument.amount_to_lots(amount)
    except OffGridError:
        return Rejection(
            ErrorCode.INVALID_AMOUNT,
            f"amount {amount!r} is not a multiple of {instrument.volume_tick_size!r}",
        )
    if lots == 0 and allow_zero:
        return 0
    if lots < instrument.min_order_lots:
        return Rejection(
            ErrorCode.INVALID_AMOUNT,
            f"amount {amount!r} is below the minimum {instrument.min_order_amount!r}",
        )
    return lots
