"""What a verdict lets through: the desired ladder cut down to the trading state.

The runtime passes the strategy's ladder through `gate_ladder` before reconciling, so the
reconciler itself needs no notion of trading states: HALTED leaves an empty ladder (the plan
becomes cancels only), REDUCING keeps only the side that reduces the position, sized so it can
at most flatten it, and a recovering ACTIVE scales every level by the size multiplier.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, assert_never

from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.risk.evaluator import TradingState

if TYPE_CHECKING:
    from thalex_trio.risk.evaluator import Verdict


def gate_ladder(
    ladder: QuoteLadder, verdict: Verdict, position_lots: int, min_order_lots: int
) -> QuoteLadder:
    """`ladder` restricted to what `verdict` allows at `position_lots`."""
    name = ladder.instrument_name
    match verdict.trading_state:
        case TradingState.HALTED:
            return QuoteLadder(name)
        case TradingState.REDUCING:
            if position_lots > 0:
                return QuoteLadder(name, asks=_capped(ladder.asks, position_lots, min_order_lots))
            if position_lots < 0:
                return QuoteLadder(name, bids=_capped(ladder.bids, -position_lots, min_order_lots))
            return QuoteLadder(name)
        case TradingState.ACTIVE:
            if verdict.size_multiplier >= 1.0:
                return ladder
            scale = verdict.size_multiplier
            return QuoteLadder(
                name,
                _scaled(ladder.bids, scale, min_order_lots),
                _scaled(ladder.asks, scale, min_order_lots),
            )
        case _:
            assert_never(verdict.trading_state)


def _capped(quotes: tuple[Quote, ...], total_lots: int, min_order_lots: int) -> tuple[Quote, ...]:
    """Best levels first, no more than `total_lots` in all (reducing must not flip the side)."""
    out = []
    room = total_lots
    for quote in quotes:
        lots = min(quote.amount_lots, room)
        if lots < min_order_lots:
            break
        out.append(Quote(quote.side, quote.price_ticks, lots))
        room -= lots
    return tuple(out)


def _scaled(quotes: tuple[Quote, ...], scale: float, min_order_lots: int) -> tuple[Quote, ...]:
    out = []
    for quote in quotes:
        lots = math.floor(quote.amount_lots * scale)
        if lots >= min_order_lots:
            out.append(Quote(quote.side, quote.price_ticks, lots))
    return tuple(out)
