"""Requests a session sends the engine: the matching-engine RPCs of API.md §5 with wire floats for
price and amount (the engine validates and converts them to ticks and lots, as the exchange
does), and names in domain terms."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.domain.enums import Collar, OrderType, Side, TimeInForce
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId


@frozen
class InsertOrder:
    """`private/insert`. `time_in_force` None means the default (GTC limit, IOC market)."""

    instrument_name: str
    side: Side
    amount: float
    price: float | None = None
    client_order_id: ClientOrderId | None = None
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce | None = None
    post_only: bool = False
    reject_post_only: bool = False
    reduce_only: bool = False
    label: str | None = None
    collar: Collar | None = None
    """None means the default: clamp for a market order, reject for a limit order."""


@frozen
class AmendOrder:
    """`private/amend`: new price and new original amount (volume-safe); one id is given.

    `collar` None means the default, reject."""

    price: float
    amount: float
    order_id: ExchangeOrderId | None = None
    client_order_id: ClientOrderId | None = None
    collar: Collar | None = None


@frozen
class CancelOrder:
    """`private/cancel` by exactly one of the ids."""

    order_id: ExchangeOrderId | None = None
    client_order_id: ClientOrderId | None = None


@frozen
class CancelAll:
    """`private/cancel_all`: every order of the account, from all sessions."""


@frozen
class CancelSession:
    """`private/cancel_session`: the session's non-persistent orders, as at a disconnect."""


@frozen
class QuoteLevel:
    """One mass-quote level in wire units; amount 0 deletes the level."""

    price: float
    amount: float


@frozen
class SideQuotes:
    """Quotes for one instrument: `None` leaves a side untouched, `()` removes all its quotes."""

    instrument_name: str
    bids: tuple[QuoteLevel, ...] | None = None
    asks: tuple[QuoteLevel, ...] | None = None


@frozen
class MassQuote:
    """`private/mass_quote`: per-side replacing quotes on one or more instruments."""

    quotes: tuple[SideQuotes, ...]
    post_only: bool = False
    reject_post_only: bool = False
    label: str | None = None


@frozen
class SetMMProtection:
    """`private/set_mm_protection` for one product group ("F"/"O" + underlying)."""

    product: str
    trade_amount: float
    quote_amount: float


@frozen
class CancelMassQuote:
    """`private/cancel_mass_quote`: mass quotes of all sessions, optionally of one product."""

    product: str | None = None


Request = (
    InsertOrder
    | AmendOrder
    | CancelOrder
    | CancelAll
    | CancelSession
    | MassQuote
    | SetMMProtection
    | CancelMassQuote
)
"""Closed union of engine requests; handle with `match` and `assert_never`."""
