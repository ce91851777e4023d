"""Exposure as risk measures it: worst-case position per side from the position and our orders.

Kept apart from the reconciler's copy on purpose (sibling layers do not import each other); the
two agree by test. Worst case: every order that could still fill does, pending amends at the
larger of old and new size, pending cancels until acknowledged, an order reported gone by
"order not found" until its final report arrives, and fills the exchange reported whose details
have not reached us (the position is the sum of the fills we hold).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thalex_trio.domain.enums import Side
from thalex_trio.domain.order import ORDER_NOT_FOUND, OrderState

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.domain.order import Order

_BUY = Side.BUY
_TERMINAL = OrderState.TERMINAL


def order_worst_case_lots(order: Order) -> int:
    """Lots of `order` that could still fill, plus reported fills not yet in the position."""
    unseen = max(order.reported_filled_lots - order.filled_lots, 0)
    filled = max(order.filled_lots, order.reported_filled_lots)
    remaining = max(order.amount_lots - filled, 0)
    if order.state is OrderState.TERMINAL:
        unresolved = order.rejected_code == ORDER_NOT_FOUND and (
            order.status is None or order.status.is_active
        )
        return unseen + (remaining if unresolved else 0)
    if order.pending_amount_lots is not None:
        return unseen + max(remaining, order.pending_amount_lots - filled)
    return unseen + remaining


def worst_case_lots(position_lots: int, orders: Iterable[Order]) -> tuple[int, int]:
    """(long, short): how long and how short we could end up if everything that can fill does."""
    long_lots, short_lots = position_lots, -position_lots
    for order in orders:
        # `order_worst_case_lots` inlined for live orders (the per-decision case): the same
        # arithmetic without a call and two `max` calls per order.
        if order.state is _TERMINAL:
            lots = order_worst_case_lots(order)
        else:
            filled = order.filled_lots
            reported = order.reported_filled_lots
            unseen = reported - filled if reported > filled else 0
            if reported > filled:
                filled = reported
            remaining = order.amount_lots - filled
            if remaining < 0:
                remaining = 0
            pending = order.pending_amount_lots
            if pending is not None and pending - filled > remaining:
                remaining = pending - filled
            lots = unseen + remaining
        if order.side is _BUY:
            long_lots += lots
        else:
            short_lots += lots
    return long_lots, short_lots
