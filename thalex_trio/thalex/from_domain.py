"""Domain actions -> wire requests: integer ticks and lots back to the exchange's numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from thalex_trio.domain.enums import OrderType, Side
from thalex_trio.thalex.wire_requests import (
    ThalexAmendRequest,
    ThalexCancelRequest,
    ThalexDoubleSidedQuote,
    ThalexInsertRequest,
    ThalexMassQuoteRequest,
    ThalexQuoteLevel,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.quote import Quote


def insert_request(
    action: Insert,
    instrument: Instrument,
    *,
    label: str | None = None,
    reject_post_only: bool = False,
) -> ThalexInsertRequest:
    """`private/insert` for a limit order; `reject_post_only` makes a post-only order
    book-or-cancel instead of being moved one tick away from the opposite best."""
    return ThalexInsertRequest(
        direction=action.side,
        instrument_name=action.instrument_name,
        amount=instrument.lots_to_amount(action.amount_lots),
        price=instrument.ticks_to_price(action.price_ticks),
        client_order_id=action.client_order_id,
        label=label,
        order_type=OrderType.LIMIT,
        time_in_force=action.time_in_force,
        post_only=True if action.post_only else None,
        reject_post_only=True if action.post_only and reject_post_only else None,
        reduce_only=True if action.reduce_only else None,
    )


def amend_request(action: Amend, instrument: Instrument) -> ThalexAmendRequest:
    """`private/amend` by client order id (amount is the new original amount)."""
    return ThalexAmendRequest(
        amount=instrument.lots_to_amount(action.amount_lots),
        price=instrument.ticks_to_price(action.price_ticks),
        client_order_id=action.client_order_id,
    )


def cancel_request(action: Cancel) -> ThalexCancelRequest:
    """`private/cancel` by client order id."""
    return ThalexCancelRequest(client_order_id=action.client_order_id)


def _side(
    quotes: tuple[Quote, ...] | None, side: Side, instrument: Instrument
) -> tuple[ThalexQuoteLevel, ...] | None:
    if quotes is None:
        return None
    for quote in quotes:
        if quote.side is not side:
            raise ValueError(
                f"{instrument.name}: a {quote.side.value} quote on the {side.value} side"
            )
    return tuple(
        ThalexQuoteLevel(
            instrument.ticks_to_price(q.price_ticks), instrument.lots_to_amount(q.amount_lots)
        )
        for q in quotes
    )


def mass_quote_request(
    quotes: Sequence[MassQuote],
    instruments: Mapping[str, Instrument],
    *,
    label: str | None = None,
    post_only: bool = True,
) -> ThalexMassQuoteRequest:
    """`private/mass_quote` in the multi-level form: a side's array replaces that side."""
    items = []
    for quote in quotes:
        instrument = instruments[quote.instrument_name]
        items.append(
            ThalexDoubleSidedQuote(
                instrument_name=quote.instrument_name,
                bid=_side(quote.bids, Side.BUY, instrument),
                ask=_side(quote.asks, Side.SELL, instrument),
            )
        )
    return ThalexMassQuoteRequest(
        quotes=tuple(items), label=label, post_only=True if post_only else None
    )
