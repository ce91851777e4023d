"""Worst-case exposure of our orders, the quantity the plan budgets against (DESIGN.md §4).

Worst case means every order that could still trade does: a pending insert counts, a pending
cancel counts until it is acknowledged (the fill may win the race), and a pending amend counts at
the larger of its old and new remaining size. An amend that a cancel overtook still counts at its
new size, since the exchange applies the amend before it sees the cancel. And an order we learnt
is gone only from an "order not found" error (code 1) still counts its remaining size until its
final report arrives: it may have filled, and that fill is not in the position yet. Likewise
lots the exchange reported filled without the fills reaching us yet count on the order's side:
the position we are given is the sum of the fills we hold, so it does not include them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import frozen

from thalex_trio.domain.enums import Side
from thalex_trio.domain.order import ORDER_NOT_FOUND, OrderState

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.domain.order import Order


def worst_case_lots(order: Order) -> int:
    """Lots of `order` that could still fill if every request in flight on it succeeds, plus
    lots the exchange reported filled whose fills we have not seen (so the position we were
    given does not hold them yet)."""
    unseen = order.reported_filled_lots - order.filled_lots
    if unseen < 0:
        unseen = 0
    filled = max(order.filled_lots, order.reported_filled_lots)
    remaining = max(order.amount_lots - filled, 0)
    if order.state is OrderState.TERMINAL:
        unresolved = order.rejected_code == ORDER_NOT_FOUND and (
            order.status is None or order.status.is_active
        )
        return unseen + remaining if unresolved else unseen
    pending = order.pending_amount_lots
    if pending is not None and pending - filled > remaining:
        return unseen + pending - filled
    return unseen + remaining


@frozen
class Exposure:
    """Worst-case position per side, in lots: how long and how short we could end up."""

    long_lots: int
    short_lots: int

    def on(self, side: Side) -> int:
        """The exposure that fills on `side` would grow (long for bids, short for asks)."""
        return self.long_lots if side is Side.BUY else self.short_lots


def exposure(position_lots: int, orders: Iterable[Order]) -> Exposure:
    """Position plus the worst-case fills of every live order, per side."""
    long_lots, short_lots = position_lots, -position_lots
    for order in orders:
        if order.side is Side.BUY:
            long_lots += worst_case_lots(order)
        else:
            short_lots += worst_case_lots(order)
    return Exposure(long_lots, short_lots)
