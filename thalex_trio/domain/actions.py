"""What the reconciler asks the venue to do: verbs over orders, in ticks and lots."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.domain.enums import Side, TimeInForce
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.quote import Quote


@frozen
class Insert:
    """Place a new limit order."""

    client_order_id: ClientOrderId
    instrument_name: str
    side: Side
    price_ticks: int
    amount_lots: int
    post_only: bool = True
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC


@frozen
class Amend:
    """Change price and original amount of a resting order (volume-safe, API.md §5.3)."""

    client_order_id: ClientOrderId
    price_ticks: int
    amount_lots: int


@frozen
class Cancel:
    """Cancel one order."""

    client_order_id: ClientOrderId


@frozen
class MassQuote:
    """Replace the quotes of one instrument per side (API.md §5.6).

    `None` leaves that side untouched; an empty tuple removes every quote on it.
    """

    instrument_name: str
    bids: tuple[Quote, ...] | None
    asks: tuple[Quote, ...] | None


Action = Insert | Amend | Cancel | MassQuote
"""Closed union of venue actions; handle with `match` and `assert_never`."""
