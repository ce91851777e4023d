"""Ladder levels for one side: prices and sizes on the tick and lot grids (MODELS.md §3).

The strategy computes the reservation price, half-spread and room; this kernel only lays the
levels out, so the per-level loop runs compiled. Prices round away from the reservation
price, never cross `cap_ticks` (post-only), and step at least one tick per level; sizes grow by
`growth` per level and round down to whole lots, but a positive size never goes below
`min_lots`: the size multipliers (regime, inventory shaping) make a level smaller, never
absent (MODELS.md §3). Only the room withdraws levels: a size is cut to the remaining room, and
the side ends where less than `min_lots` is left. A size of zero quotes nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from numba import njit

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_EPS_TICKS = 1e-9  # float noise must not move a price across a tick boundary


@njit(
    "intp(boolean, float64, float64, boolean, int64, float64, float64, int64, int64,"
    " int64[::1], int64[::1])",
    cache=True,
)
def ladder_side_levels(
    is_bid: bool,
    first_ticks: float,
    step_ticks: float,
    has_cap: bool,
    cap_ticks: int,
    first_size_lots: float,
    growth: float,
    min_lots: int,
    room_lots: int,
    out_price_ticks: NDArray[np.int64],
    out_amount_lots: NDArray[np.int64],
) -> int:
    """Write up to len(out_price_ticks) levels; return how many were written.

    Bids start at floor(first_ticks) and move down by `step_ticks` (negative), asks start at
    ceil(first_ticks) and move up. With `has_cap`, a bid is at most `cap_ticks` and an ask at
    least `cap_ticks`. Bids at or below zero ticks are not quoted.
    """
    levels = out_price_ticks.shape[0]
    written = 0
    has_previous = has_cap
    previous = cap_ticks + 1 if is_bid else cap_ticks - 1
    remaining = room_lots
    size = first_size_lots
    for level in range(levels):
        target = first_ticks + level * step_ticks
        if is_bid:
            price = math.floor(target + _EPS_TICKS)
            if has_previous and price >= previous:
                price = previous - 1
            if price <= 0:
                break
        else:
            price = math.ceil(target - _EPS_TICKS)
            if has_previous and price <= previous:
                price = previous + 1
        previous = price
        has_previous = True
        if size <= 0.0:
            break
        lots = max(int(size + _EPS_TICKS), min_lots)
        size *= growth
        if lots > remaining:
            lots = remaining
        if lots < min_lots:
            break
        remaining -= lots
        out_price_ticks[written] = price
        out_amount_lots[written] = lots
        written += 1
    return written
