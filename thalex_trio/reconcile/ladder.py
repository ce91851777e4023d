"""The ladder the plan aims for: the desired one made safe to send.

The strategy already respects these rules; the reconciler enforces them again because it is the
last pure step before the wire, and it sees the newest market and order state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from thalex_trio.domain.quote import Quote

Level = tuple[int, int]
"""(price_ticks, amount_lots) of one desired level."""


def target_levels(
    quotes: Sequence[Quote],
    *,
    is_bid: bool,
    min_order_lots: int,
    max_order_lots: int | None,
    opposite_best_ticks: int | None,
    blocked_from_ticks: int | None,
    budget_lots: int | None,
) -> list[Level]:
    """Levels of one side, best first, that the plan may place.

    In order: sizes above `max_order_lots` are clipped and those below `min_order_lots` dropped;
    a post-only price at or through `opposite_best_ticks` is clamped one tick inside it (the
    strategy's clamp), and levels that collapse onto one price keep the first; prices at or
    through `blocked_from_ticks` (where an order of ours on the other side that we cannot touch
    may rest) are dropped, so we never cross ourselves; non-positive prices are dropped; finally
    the side is trimmed from its far end so its total fits `budget_lots` (the steady-state room
    under the exposure limit).
    """
    levels: list[Level] = []
    last_price: int | None = None
    room = budget_lots
    for quote in quotes:
        price = quote.price_ticks
        amount = quote.amount_lots
        if max_order_lots is not None and amount > max_order_lots:
            amount = max_order_lots
        if opposite_best_ticks is not None:
            if is_bid and price >= opposite_best_ticks:
                price = opposite_best_ticks - 1
            elif not is_bid and price <= opposite_best_ticks:
                price = opposite_best_ticks + 1
        if blocked_from_ticks is not None and (
            price >= blocked_from_ticks if is_bid else price <= blocked_from_ticks
        ):
            continue
        if price <= 0 or price == last_price:
            continue
        if room is not None and amount > room:
            amount = room
        if amount < min_order_lots:
            continue
        levels.append((price, amount))
        last_price = price
        if room is not None:
            room -= amount
    return levels
