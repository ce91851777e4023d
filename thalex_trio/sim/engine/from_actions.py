"""Our venue actions -> matching-engine requests, in the wire units the engine validates.

The shadow venue and the backtest send the reconciler's actions to the engine; this is the one
translation both use, so they send exactly what the live venue would put on the wire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.sim.engine.requests import (
    AmendOrder,
    CancelOrder,
    InsertOrder,
    QuoteLevel,
    SideQuotes,
)
from thalex_trio.sim.engine.requests import MassQuote as EngineMassQuote

if TYPE_CHECKING:
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.quote import Quote
    from thalex_trio.sim.engine.requests import Request


def request_from_action(
    action: Insert | Amend | Cancel | MassQuote, instrument: Instrument
) -> Request:
    """The engine request that carries `action` for `instrument` (prices and sizes on its grid)."""
    match action:
        case Insert():
            return InsertOrder(
                instrument_name=action.instrument_name,
                side=action.side,
                amount=instrument.lots_to_amount(action.amount_lots),
                price=instrument.ticks_to_price(action.price_ticks),
                client_order_id=action.client_order_id,
                time_in_force=action.time_in_force,
                post_only=action.post_only,
                reduce_only=action.reduce_only,
            )
        case Amend():
            return AmendOrder(
                price=instrument.ticks_to_price(action.price_ticks),
                amount=instrument.lots_to_amount(action.amount_lots),
                client_order_id=action.client_order_id,
            )
        case Cancel():
            return CancelOrder(client_order_id=action.client_order_id)
        case MassQuote():
            return EngineMassQuote(
                quotes=(
                    SideQuotes(
                        instrument_name=action.instrument_name,
                        bids=_levels(action.bids, instrument),
                        asks=_levels(action.asks, instrument),
                    ),
                ),
                post_only=True,
            )
        case _:
            assert_never(action)


def _levels(
    quotes: tuple[Quote, ...] | None, instrument: Instrument
) -> tuple[QuoteLevel, ...] | None:
    if quotes is None:
        return None
    return tuple(
        QuoteLevel(
            price=instrument.ticks_to_price(q.price_ticks),
            amount=instrument.lots_to_amount(q.amount_lots),
        )
        for q in quotes
    )
