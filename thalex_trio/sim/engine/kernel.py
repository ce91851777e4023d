"""The numba kernel: advance one instrument's L2 book and our resting orders over a slice of
market events, writing our fills to preallocated arrays.

The book is dense: `lots[0, i]` (bids) and `lots[1, i]` (asks) hold the displayed size at
price `base + i` ticks, over a window of fixed width around the touch. Levels outside the
window are counted and ignored: they are far from the touch, where neither queue positions nor
crossings happen. Dense arrays make a level update O(1) and finding the next best level after
the best empties a short scan, since books are dense near the touch. The kernel recentres the
window on the touch when the touch comes within width/8 of an edge (after the depth event that
moved it, so where that happens does not depend on how the caller slices time).

Our resting orders live in parallel slot arrays, packed in rows so a call passes few arrays:
`o_int[O_SIDE | O_PRICE | O_REM, slot]` (side 0 marks a free slot) and
`o_flt[O_FRONT | O_CUM, slot]`; fills go to `f_out[F_SLOT | F_TS | F_PRICE | F_LOTS, k]`. The
kernel stops right after any event that filled one of our orders, so the Python layer applies
market-maker protection and reduce-only recapping after every aggressor, as the exchange does.

A book runs on one of the two clocks of the events (`local_clock`): the exchange's (the
matching engine) or the receiver's (a bot's view of the feed, which has no orders).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    FUNDING_RATE_EVENT,
    INDEX_EVENT,
    MARK_EVENT,
    MARKET_ORDER_EVENT,
    TRADE_EVENT,
    Events,
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Indices into the int64 state vector `st`.
ST_BASE = 0  # price in ticks of index 0
ST_BEST_BID = 1  # index of the best bid, -1 when the side is empty
ST_BEST_ASK = 2  # index of the best ask, window width when the side is empty
ST_CROSSED = 3  # messages after which the displayed book was crossed
ST_OUT_OF_WINDOW = 4  # level updates outside the window (ignored)
ST_N_FILLS = 5  # fills written to the output arrays
ST_N_SLOTS = 6  # high-water mark of order slots in use
ST_MAX_BID = 7  # our highest resting bid in ticks (a very low number when none)
ST_MIN_BID = 8
ST_MIN_ASK = 9  # our lowest resting ask (a very high number when none)
ST_MAX_ASK = 10
ST_EVENTS = 11  # events processed in total
ST_LAST_TS = 12  # time (on the book's clock) of the last event applied, 0 before any
ST_SIZE = 13

# Indices into the float64 reference vector `fst` (NaN until the first such event).
FST_MARK = 0
FST_INDEX = 1
FST_FUNDING_RATE = 2
FST_SIZE = 3

# Rows of the order slot arrays and of the fill output array.
O_SIDE = 0
O_PRICE = 1
O_REM = 2
O_INT_ROWS = 3
O_FRONT = 0
O_CUM = 1
O_FLT_ROWS = 2
F_SLOT = 0
F_TS = 1
F_PRICE = 2
F_LOTS = 3
F_ROWS = 4

# Columns of `sample_points`' top-of-book output.
TOP_BID_TICKS = 0
TOP_BID_LOTS = 1
TOP_ASK_TICKS = 2
TOP_ASK_LOTS = 3
TOP_LAST_TS = 4
TOP_COLUMNS = 5

NO_BID = -(2**62)
NO_ASK = 2**62

CONSERVATIVE = 0
POWER_PROB = 1

RECENTRE_MARGIN_FRACTION = 8  # recentre when the touch is within width/8 of an edge


@njit(cache=True)
def _set_bid(bid_lots: I64, st: I64, i: int, lots: int) -> None:
    bid_lots[i] = lots
    best = st[ST_BEST_BID]
    if lots > 0:
        if i > best:
            st[ST_BEST_BID] = i
    elif i == best:
        j = i - 1
        while j >= 0 and bid_lots[j] == 0:
            j -= 1
        st[ST_BEST_BID] = j


@njit(cache=True)
def _set_ask(ask_lots: I64, st: I64, i: int, lots: int) -> None:
    ask_lots[i] = lots
    best = st[ST_BEST_ASK]
    if lots > 0:
        if i < best:
            st[ST_BEST_ASK] = i
    elif i == best:
        n = ask_lots.shape[0]
        j = i + 1
        while j < n and ask_lots[j] == 0:
            j += 1
        st[ST_BEST_ASK] = j


@njit(cache=True)
def _rescan_best(lots: I64, st: I64) -> None:
    width = lots.shape[1]
    j = width - 1
    while j >= 0 and lots[0, j] == 0:
        j -= 1
    st[ST_BEST_BID] = j
    j = 0
    while j < width and lots[1, j] == 0:
        j += 1
    st[ST_BEST_ASK] = j


@njit(cache=True)
def depth_indices(side_lots: I64, best: int, step: int, out: I64) -> int:
    """Write to `out` the indices of the displayed levels of one side, best first: from `best`
    walking `step` (-1 for bids, +1 for asks); returns how many (at most `len(out)`).

    The walk stops once `out` is full, so a book dense near the touch costs a few steps where
    scanning the whole window (2**18 ticks by default) cost milliseconds per publish."""
    width = side_lots.shape[0]
    n = 0
    i = best
    limit = out.shape[0]
    while n < limit and 0 <= i < width:
        if side_lots[i] != 0:
            out[n] = i
            n += 1
        i += step
    return n


@njit(cache=True)
def shift_window(lots: I64, st: I64, shift: int) -> None:
    """Move the window `shift` ticks up (down when negative); levels pushed out are dropped."""
    width = lots.shape[1]
    if shift == 0:
        return
    for row in range(2):
        a = lots[row]
        if shift >= width or shift <= -width:
            a[:] = 0
        elif shift > 0:
            a[: width - shift] = a[shift:].copy()
            a[width - shift :] = 0
        else:
            a[-shift:] = a[: width + shift].copy()
            a[:-shift] = 0
    st[ST_BASE] += shift
    _rescan_best(lots, st)


@njit(cache=True)
def _maybe_recentre(lots: I64, st: I64) -> None:
    width = lots.shape[1]
    margin = width // RECENTRE_MARGIN_FRACTION
    bb = st[ST_BEST_BID]
    ba = st[ST_BEST_ASK]
    touch = bb if bb >= 0 else (ba if ba < width else -1)
    if touch < 0 or margin <= touch < width - margin:
        return
    shift_window(lots, st, touch - width // 2)


@njit(cache=True)
def _queue_after_depth(
    front: float, cum_trade: float, prev: int, new: int, model: int, power_n: float
) -> float:
    """Lots ahead of our order after the displayed size at its level went from prev to new."""
    if model == CONSERVATIVE:
        return min(front, float(new))
    # MODELS.md §6: a decrease not explained by trades is split between the queue ahead and
    # behind us with p = f(back) / (f(back) + f(front)), f(x) = x^n.
    chg = prev - new - cum_trade
    if chg <= 0.0:
        return min(front, float(new))
    back = max(prev - front, 0.0)
    f_back = back**power_n
    f_front = front**power_n
    total = f_back + f_front
    p = f_back / total if total > 0.0 else 1.0
    est = front - (1.0 - p) * chg + min(back - chg, 0.0)
    return max(min(est, float(new)), 0.0)


@njit(cache=True)
def _record_fill(
    slot: int,
    ts: int,
    price: int,
    lots: int,
    o_rem: I64,
    st: I64,
    f_slot: I64,
    f_ts: I64,
    f_price: I64,
    f_lots: I64,
) -> None:
    k = st[ST_N_FILLS]
    f_slot[k] = slot
    f_ts[k] = ts
    f_price[k] = price
    f_lots[k] = lots
    st[ST_N_FILLS] = k + 1
    o_rem[slot] -= lots


@njit(cache=True)
def run_events(
    ev: Events,
    start: int,
    stop_ts_ns: int,
    local_clock: bool,
    book: I64,
    st: I64,
    fst: F64,
    o_int: I64,
    o_flt: F64,
    model: int,
    power_n: float,
    f_out: I64,
) -> int:
    """Apply events from `start` while their time is <= `stop_ts_ns`; return the next index.

    Times are `local_ts_ns` when `local_clock`, else `exch_ts_ns`. Stops early right after an
    event that filled one of our orders. Fills are maker fills at our order's price: by a trade
    through our price (all of the remaining), by a trade at our price beyond the queue ahead
    (partial), by the opposite side of the book moving to or through our price (all of the
    remaining: the crossing order was larger than us, since a rest of it is displayed), or by
    a synthetic market order reaching our price inside the market's spread (all of the
    remaining: nothing is ahead of us there).
    """
    # Row views once per call: the event loop indexes plain 1-D arrays.
    bid_lots = book[0]
    ask_lots = book[1]
    o_side = o_int[O_SIDE]
    o_price = o_int[O_PRICE]
    o_rem = o_int[O_REM]
    o_front = o_flt[O_FRONT]
    o_cum = o_flt[O_CUM]
    f_slot = f_out[F_SLOT]
    f_ts = f_out[F_TS]
    f_price = f_out[F_PRICE]
    f_lots = f_out[F_LOTS]
    n_ev = ev.shape[0]
    width = bid_lots.shape[0]
    n_slots = st[ST_N_SLOTS]
    margin = width // RECENTRE_MARGIN_FRACTION
    j = start
    while j < n_ev:
        e = ev[j]
        ts = e.local_ts_ns if local_clock else e.exch_ts_ns
        if ts > stop_ts_ns:
            return j
        fills_before = st[ST_N_FILLS]
        kind = e.kind
        if kind in (DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT):
            price = e.price_ticks
            lots = e.amount_lots
            i = price - st[ST_BASE]
            outside = i < 0 or i >= width
            if outside and lots > 0 and st[ST_BEST_BID] < 0 and st[ST_BEST_ASK] >= width:
                # An empty book (after a clear) moves to where the market is.
                shift_window(book, st, i - width // 2)
                i = price - st[ST_BASE]
            if i < 0 or i >= width:
                st[ST_OUT_OF_WINDOW] += 1
            elif e.side > 0:
                prev = bid_lots[i]
                _set_bid(bid_lots, st, i, lots)
                if st[ST_MIN_BID] <= price <= st[ST_MAX_BID]:
                    for s in range(n_slots):
                        if o_side[s] == 1 and o_price[s] == price and o_rem[s] > 0:
                            o_front[s] = _queue_after_depth(
                                o_front[s], o_cum[s], prev, lots, model, power_n
                            )
                            o_cum[s] = 0.0
                if lots > 0 and price >= st[ST_MIN_ASK]:
                    for s in range(n_slots):
                        if o_side[s] == -1 and o_price[s] <= price and o_rem[s] > 0:
                            _record_fill(
                                s,
                                ts,
                                o_price[s],
                                o_rem[s],
                                o_rem,
                                st,
                                f_slot,
                                f_ts,
                                f_price,
                                f_lots,
                            )
            else:
                prev = ask_lots[i]
                _set_ask(ask_lots, st, i, lots)
                if st[ST_MIN_ASK] <= price <= st[ST_MAX_ASK]:
                    for s in range(n_slots):
                        if o_side[s] == -1 and o_price[s] == price and o_rem[s] > 0:
                            o_front[s] = _queue_after_depth(
                                o_front[s], o_cum[s], prev, lots, model, power_n
                            )
                            o_cum[s] = 0.0
                if lots > 0 and price <= st[ST_MAX_BID]:
                    for s in range(n_slots):
                        if o_side[s] == 1 and o_price[s] >= price and o_rem[s] > 0:
                            _record_fill(
                                s,
                                ts,
                                o_price[s],
                                o_rem[s],
                                o_rem,
                                st,
                                f_slot,
                                f_ts,
                                f_price,
                                f_lots,
                            )
            bb = st[ST_BEST_BID]
            touch = bb if bb >= 0 else st[ST_BEST_ASK]
            if touch < margin or touch >= width - margin:
                _maybe_recentre(book, st)
            if e.flags & END_OF_MESSAGE_FLAG:
                bb = st[ST_BEST_BID]
                ba = st[ST_BEST_ASK]
                if bb >= 0 and ba < width and bb >= ba:
                    st[ST_CROSSED] += 1
        elif kind == TRADE_EVENT:
            price = e.price_ticks
            lots = e.amount_lots
            # The aggressor's side decides which of our orders it can reach.
            our = -1 if e.side > 0 else 1
            reachable = price >= st[ST_MIN_ASK] if our == -1 else price <= st[ST_MAX_BID]
            if reachable:
                for s in range(n_slots):
                    if o_side[s] != our or o_rem[s] <= 0:
                        continue
                    through = o_price[s] < price if our == -1 else o_price[s] > price
                    if through:
                        _record_fill(
                            s, ts, o_price[s], o_rem[s], o_rem, st, f_slot, f_ts, f_price, f_lots
                        )
                    elif o_price[s] == price:
                        front = o_front[s] - lots
                        o_cum[s] += lots
                        if front < 0.0:
                            take = min(o_rem[s], int(np.floor(-front + 1e-9)))
                            o_front[s] = 0.0
                            if take > 0:
                                _record_fill(
                                    s, ts, price, take, o_rem, st, f_slot, f_ts, f_price, f_lots
                                )
                        else:
                            o_front[s] = front
        elif kind == MARKET_ORDER_EVENT:
            # A synthetic market order takes, before the market's own levels (price priority),
            # our orders within its limit that are better than the market's best: between the
            # limit and the market's best, in the spread. Ours at or behind the market's levels
            # are left to the prints that follow, with their queues.
            limit = e.price_ticks
            our = -1 if e.side > 0 else 1
            if our == -1:
                best = st[ST_BEST_ASK]
                worst = min(limit, st[ST_BASE] + best - 1 if best < width else limit)
                reachable = worst >= st[ST_MIN_ASK]
            else:
                best = st[ST_BEST_BID]
                worst = max(limit, st[ST_BASE] + best + 1 if best >= 0 else limit)
                reachable = worst <= st[ST_MAX_BID]
            if reachable:
                for s in range(n_slots):
                    if o_side[s] != our or o_rem[s] <= 0:
                        continue
                    within = o_price[s] <= worst if our == -1 else o_price[s] >= worst
                    if within:
                        _record_fill(
                            s, ts, o_price[s], o_rem[s], o_rem, st, f_slot, f_ts, f_price, f_lots
                        )
        elif kind == DEPTH_CLEAR_EVENT:
            if e.side >= 0:
                bid_lots[:] = 0
                st[ST_BEST_BID] = -1
            if e.side <= 0:
                ask_lots[:] = 0
                st[ST_BEST_ASK] = width
        elif kind == MARK_EVENT:
            fst[FST_MARK] = e.value
        elif kind == INDEX_EVENT:
            fst[FST_INDEX] = e.value
        elif kind == FUNDING_RATE_EVENT:
            fst[FST_FUNDING_RATE] = e.value
        j += 1
        st[ST_EVENTS] += 1
        st[ST_LAST_TS] = ts
        if st[ST_N_FILLS] > fills_before:
            return j
    return j


@njit(cache=True)
def sample_points(
    ev: Events,
    start: int,
    local_clock: bool,
    book: I64,
    st: I64,
    fst: F64,
    o_int: I64,
    o_flt: F64,
    f_out: I64,
    points_ns: I64,
    p_start: int,
    top_out: I64,
    ref_out: F64,
) -> tuple[int, int]:
    """Advance a book without orders through `ev` to each time of `points_ns` from `p_start`,
    recording the top of book (`TOP_*` columns) and the reference vector (`FST_*` columns).

    Returns (next event index, next point index): a point is recorded only once an event
    after it is seen, since later events of another array may still belong before it.
    """
    j = start
    p = p_start
    n_ev = ev.shape[0]
    width = book.shape[1]
    while p < points_ns.shape[0]:
        j = run_events(ev, j, points_ns[p], local_clock, book, st, fst, o_int, o_flt, 0, 1.0, f_out)
        if j >= n_ev:
            return j, p
        bb = st[ST_BEST_BID]
        ba = st[ST_BEST_ASK]
        base = st[ST_BASE]
        top_out[p, TOP_BID_TICKS] = base + bb if bb >= 0 else NO_BID
        top_out[p, TOP_BID_LOTS] = book[0, bb] if bb >= 0 else 0
        top_out[p, TOP_ASK_TICKS] = base + ba if ba < width else NO_ASK
        top_out[p, TOP_ASK_LOTS] = book[1, ba] if ba < width else 0
        top_out[p, TOP_LAST_TS] = st[ST_LAST_TS]
        ref_out[p, :] = fst
        p += 1
    return j, p


@njit(cache=True)
def refresh_bounds(o_int: I64, st: I64) -> None:
    """Recompute our price range per side, which lets the kernel skip most events fast."""
    max_bid = NO_BID
    min_bid = NO_ASK
    min_ask = NO_ASK
    max_ask = NO_BID
    for s in range(st[ST_N_SLOTS]):
        if o_int[O_REM, s] <= 0:
            continue
        price = o_int[O_PRICE, s]
        side = o_int[O_SIDE, s]
        if side == 1:
            max_bid = max(max_bid, price)
            min_bid = min(min_bid, price)
        elif side == -1:
            min_ask = min(min_ask, price)
            max_ask = max(max_ask, price)
    st[ST_MAX_BID] = max_bid
    st[ST_MIN_BID] = min_bid
    st[ST_MIN_ASK] = min_ask
    st[ST_MAX_ASK] = max_ask


@njit(cache=True)
def take_liquidity(
    book: I64,
    st: I64,
    side: int,
    limit_ticks: int,
    max_lots: int,
    out_price: I64,
    out_lots: I64,
) -> int:
    """Our aggressive order of `side` takes displayed liquidity up to `limit_ticks`.

    Writes (price, lots) per level taken, best first; returns the number of levels. The taken
    size is removed from the displayed book until the next update of that level overwrites it,
    so the same liquidity is not taken twice.
    """
    bid_lots = book[0]
    ask_lots = book[1]
    width = book.shape[1]
    base = st[ST_BASE]
    left = max_lots
    n = 0
    while left > 0 and n < out_price.shape[0]:
        if side > 0:
            i = st[ST_BEST_ASK]
            if i >= width or base + i > limit_ticks:
                break
            take = min(left, ask_lots[i])
            _set_ask(ask_lots, st, i, ask_lots[i] - take)
        else:
            i = st[ST_BEST_BID]
            if i < 0 or base + i < limit_ticks:
                break
            take = min(left, bid_lots[i])
            _set_bid(bid_lots, st, i, bid_lots[i] - take)
        out_price[n] = base + i
        out_lots[n] = take
        left -= take
        n += 1
    return n
