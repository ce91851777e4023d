"""Desired ladder + our live orders -> an ordered plan of venue actions (pure, allocation-light).

The plan, in the orders style, is: cancels, then amends that move away from the other side (or
only change size), then amends that move towards it, then inserts, best level first and bid/ask
interleaved. Cancel-before-place releases margin first and lets an order we no longer want leave
before anything takes its place; moving away before moving towards means that, processed in
order, no bid of ours ever meets an ask of ours.

Rules that make it safe with requests in flight (DESIGN.md §4):
- Only acknowledged, idle (OPEN) orders are acted on, each at most once. An order with a request
  in flight is left alone; it still holds the level it is heading for, so that level is neither
  duplicated nor churned, and it still counts, at its worst case, towards exposure.
- Exposure is budgeted at the worst case: cancels still count until acknowledged and a smaller
  amend frees nothing until then. An insert or a larger amend only goes out while the side stays
  within `max_exposure_lots`; what does not fit waits for a later plan (`deferred_levels`).
- An order within the amend threshold *behind* its desired price and within the size tolerance
  is left alone (no churn); one that is ahead of its desired price is always moved back.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

from attrs import frozen

from thalex_trio.domain.actions import Action, Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.enums import Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.order import Order, OrderState
from thalex_trio.domain.quote import Quote
from thalex_trio.reconcile.exposure import worst_case_lots
from thalex_trio.reconcile.ladder import Level, target_levels
from thalex_trio.reconcile.params import ReconcileStyle

if TYPE_CHECKING:
    from collections.abc import Sequence

    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.quote import QuoteLadder
    from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams

_BUY = Side.BUY
_SELL = Side.SELL
_OPEN = OrderState.OPEN
_TERMINAL = OrderState.TERMINAL
_PENDING_CANCEL = OrderState.PENDING_CANCEL
_PENDING_AMEND = OrderState.PENDING_AMEND

# (key, remaining_lots, filled_lots, order, in_flight): where an order rests or is heading (key
# is the price for bids and minus the price for asks), and whether it has a request in flight.
# remaining + filled is the amount it was placed (or is being amended) with: for a mass quote,
# the amount the exchange compares a new quote with.
_Candidate = tuple[int, int, int, Order, bool]
_BY_KEY = itemgetter(0)


@frozen
class Plan:
    """What to send, in order, and the client order id to use after the plan's inserts.

    `deferred_levels` counts target levels this plan could not put in place yet (an order in
    flight holds them, or the exposure budget is spent until cancels are acknowledged); the
    next reconcile after the acknowledgements finishes them.
    """

    actions: tuple[Action, ...]
    next_client_order_id: ClientOrderId
    deferred_levels: int = 0

    @property
    def is_empty(self) -> bool:
        """True when nothing needs sending."""
        return not self.actions


class _SidePlan(NamedTuple):
    cancels: list[Order]
    retreats: list[Amend]
    advances: list[Amend]
    inserts: list[Level]
    mass_quote: tuple[Quote, ...] | None
    deferred: int


_NOTHING = _SidePlan([], [], [], [], None, 0)  # never mutated: callers only read it


def reconcile(
    desired: QuoteLadder,
    orders: Sequence[Order],
    *,
    position_lots: int,
    instrument: Instrument,
    params: ReconcileParams,
    limits: ReconcileLimits,
    next_client_order_id: ClientOrderId,
    best_bid_ticks: int | None = None,
    best_ask_ticks: int | None = None,
    now_ns: int = 0,
) -> Plan:
    """The ordered actions that move `orders` towards `desired` without breaking a limit.

    `orders` are ours on `desired.instrument_name` (terminal ones are ignored); `position_lots`
    is signed; `best_bid_ticks` / `best_ask_ticks` are the market's best prices (None when
    unknown), used to keep post-only prices from crossing; `now_ns` is only read for the
    maximum order age. Inserts take consecutive ids from `next_client_order_id`.
    """
    name = desired.instrument_name
    mass_quote = params.style is ReconcileStyle.MASS_QUOTE
    max_age_ns = (
        None
        if params.max_order_age_s is None or mass_quote
        else round(params.max_order_age_s * 1e9)
    )
    bid_candidates: list[_Candidate] = []
    ask_candidates: list[_Candidate] = []
    aged: list[Order] = []
    long_lots = position_lots
    short_lots = -position_lots
    unseen_long = unseen_short = 0  # lots reported filled whose fills we do not hold yet
    ceil_bid: int | None = None  # highest price an untouchable bid of ours may rest at
    floor_ask: int | None = None  # lowest price an untouchable ask of ours may rest at
    for order in orders:
        if order.instrument_name != name:
            raise ValueError(
                f"order {order.client_order_id} is on {order.instrument_name}, not {name}"
            )
        state = order.state
        if state is _TERMINAL:
            # Nothing to act on, but fills it may have had can still be missing from the position.
            unseen = order.reported_filled_lots - order.filled_lots
            if order.side is _BUY:
                long_lots += worst_case_lots(order)
                unseen_long += unseen if unseen > 0 else 0
            else:
                short_lots += worst_case_lots(order)
                unseen_short += unseen if unseen > 0 else 0
            continue
        is_bid = order.side is _BUY
        filled = order.filled_lots
        if order.reported_filled_lots > filled:
            filled = order.reported_filled_lots
        remaining = order.amount_lots - filled
        pending_amount = order.pending_amount_lots
        # worst_case_lots(order), inlined: this loop is the reconciler's hot path.
        worst = remaining if remaining > 0 else 0
        if pending_amount is not None and pending_amount - filled > worst:
            worst = pending_amount - filled
        unseen = filled - order.filled_lots  # reported fills not in the position yet
        worst += unseen
        if is_bid:
            long_lots += worst
            unseen_long += unseen
        else:
            short_lots += worst
            unseen_short += unseen
        price = order.price_ticks
        if state is _OPEN:
            if remaining <= 0:
                continue  # filled in full; its final update is on its way
            if max_age_ns is not None and now_ns - order.placed_ns >= max_age_ns:
                aged.append(order)
            elif is_bid:
                bid_candidates.append((price, remaining, filled, order, False))
            else:
                ask_candidates.append((-price, remaining, filled, order, False))
            continue
        pending_price = order.pending_price_ticks
        if is_bid:
            high = price if pending_price is None or pending_price < price else pending_price
            if ceil_bid is None or high > ceil_bid:
                ceil_bid = high
        else:
            low = price if pending_price is None or pending_price > price else pending_price
            if floor_ask is None or low < floor_ask:
                floor_ask = low
        if state is _PENDING_CANCEL:
            continue
        if state is _PENDING_AMEND and pending_price is not None and pending_amount is not None:
            price, remaining = pending_price, pending_amount - filled
        if remaining > 0:
            if is_bid:
                bid_candidates.append((price, remaining, filled, order, True))
            else:
                ask_candidates.append((-price, remaining, filled, order, True))

    min_lots = instrument.min_order_lots
    max_lots = limits.max_order_lots
    cap = limits.max_exposure_lots
    post_only = params.post_only
    bid_levels = target_levels(
        desired.bids,
        is_bid=True,
        min_order_lots=min_lots,
        max_order_lots=max_lots,
        opposite_best_ticks=best_ask_ticks if post_only else None,
        blocked_from_ticks=floor_ask,
        budget_lots=None if cap is None else cap - position_lots - unseen_long,
    )
    ask_levels = target_levels(
        desired.asks,
        is_bid=False,
        min_order_lots=min_lots,
        max_order_lots=max_lots,
        opposite_best_ticks=best_bid_ticks if post_only else None,
        blocked_from_ticks=ceil_bid,
        budget_lots=None if cap is None else cap + position_lots - unseen_short,
    )
    threshold = params.amend_threshold_ticks
    tolerance = params.size_tolerance_lots
    bids = _plan_side(
        bid_levels,
        bid_candidates,
        _BUY,
        threshold,
        tolerance,
        min_lots,
        None if cap is None else cap - long_lots,
        mass_quote,
    )
    asks = _plan_side(
        ask_levels,
        ask_candidates,
        _SELL,
        threshold,
        tolerance,
        min_lots,
        None if cap is None else cap - short_lots,
        mass_quote,
    )
    deferred = bids.deferred + asks.deferred
    if mass_quote:
        if bids.mass_quote is None and asks.mass_quote is None:
            return Plan((), next_client_order_id, deferred)
        return Plan(
            (MassQuote(name, bids.mass_quote, asks.mass_quote),), next_client_order_id, deferred
        )

    if bids is asks is _NOTHING and not aged:
        return Plan((), next_client_order_id, deferred)  # the steady state: nothing to send
    actions: list[Action] = [Cancel(o.client_order_id) for o in aged]
    actions.extend(Cancel(o.client_order_id) for o in bids.cancels)
    actions.extend(Cancel(o.client_order_id) for o in asks.cancels)
    actions.extend(bids.retreats)
    actions.extend(asks.retreats)
    actions.extend(bids.advances)
    actions.extend(asks.advances)
    next_id = next_client_order_id
    post = params.post_only
    bid_inserts, ask_inserts = bids.inserts, asks.inserts
    for i in range(max(len(bid_inserts), len(ask_inserts))):
        if i < len(bid_inserts):
            price, amount = bid_inserts[i]
            actions.append(Insert(next_id, name, _BUY, price, amount, post))
            next_id = ClientOrderId(next_id + 1)
        if i < len(ask_inserts):
            price, amount = ask_inserts[i]
            actions.append(Insert(next_id, name, _SELL, price, amount, post))
            next_id = ClientOrderId(next_id + 1)
    return Plan(tuple(actions), next_id, deferred)


def _plan_side(
    levels: list[Level],
    candidates: list[_Candidate],
    side: Side,
    threshold_ticks: int,
    tolerance_lots: int,
    min_lots: int,
    room_lots: int | None,
    mass_quote: bool,
) -> _SidePlan:
    """Match one side's target levels with our orders on it, and say what to do with each.

    Prices are compared as keys that grow towards the other side (the price for bids, minus the
    price for asks), so "ahead", "behind" and "best first" read the same on both sides.
    Matching runs in three passes, each level and order used once: (1) an order within the
    amend threshold behind the level (and ahead of the next level) and within size tolerance
    is kept as it is; (2) an order
    at exactly the level's price is resized in place (a smaller amend at the same price keeps
    queue priority); (3) the rest pair up by rank, best with best, and are amended. An order in
    flight that is matched holds its level until its acknowledgement; an idle order left over
    is cancelled; a level left over is inserted while the exposure room allows.

    In the mass-quote style a quote in the keep band that was quoted with the level's amount is
    kept too, however much of it has filled: the exchange leaves a quote sent again with the
    same price and amount as it is, so it cannot be refilled in place (only a different amount
    replaces it, at the back of the queue), and asking would change nothing.
    """
    sign = 1 if side is _BUY else -1
    n_levels = len(levels)
    n_orders = len(candidates)
    if n_levels == n_orders and _in_place(
        levels, candidates, sign, threshold_ticks, tolerance_lots
    ):
        return _NOTHING
    if n_orders > 1:
        candidates.sort(key=_BY_KEY, reverse=True)
    match = [-1] * n_levels
    used = [False] * n_orders
    kept = [False] * n_levels
    n_kept = 0
    # Passes 1 and 2 in one sweep: an order at a level's exact price can only be kept by that
    # level (it is ahead of every later one), so resizing it here takes nothing from another.
    start = 0
    for i in range(n_levels):
        want_key = sign * levels[i][0]
        want_lots = levels[i][1]
        while start < n_orders and candidates[start][0] > want_key:
            start += 1
        # The keep band ends above the next level, so bands never overlap and a ladder that is
        # in place matches itself one to one (a second reconcile finds nothing to do).
        floor_key = want_key - threshold_ticks
        if i + 1 < n_levels:
            next_key = sign * levels[i + 1][0]
            if next_key > floor_key:
                floor_key = next_key
        same_price = -1
        for j in range(start, n_orders):
            candidate = candidates[j]
            if candidate[0] <= floor_key:
                break
            if used[j]:
                continue
            if -tolerance_lots <= candidate[1] - want_lots <= tolerance_lots or (
                mass_quote and candidate[1] + candidate[2] == want_lots
            ):
                match[i] = j
                used[j] = kept[i] = True
                n_kept += 1
                break
            if same_price < 0 and candidate[0] == want_key:
                same_price = j
        if match[i] < 0 and same_price >= 0 and not mass_quote:
            match[i] = same_price
            used[same_price] = True
    if n_kept == n_levels == n_orders:
        return _NOTHING
    if mass_quote:
        return _mass_quote_side(levels, candidates, side, match, used, min_lots, room_lots)
    # Pass 3: pair what is left by rank (candidates are sorted best first).
    spare = [j for j in range(n_orders) if not used[j]]
    k = 0
    for i in range(n_levels):
        if k == len(spare):
            break
        if match[i] < 0:
            match[i] = spare[k]
            used[spare[k]] = True
            k += 1
    cancels = [candidates[j][3] for j in range(n_orders) if not used[j] and not candidates[j][4]]
    retreats: list[Amend] = []
    advances: list[Amend] = []
    inserts: list[Level] = []
    deferred = 0
    room = room_lots
    for i in range(n_levels):
        if kept[i]:
            continue
        want_price, want_lots = levels[i]
        j = match[i]
        if j < 0:
            amount = want_lots
            if room is not None:
                if room < amount:
                    amount = room
                    deferred += 1
                if amount < min_lots:
                    continue
                room -= amount
            inserts.append((want_price, amount))
            continue
        key, remaining, filled, order, in_flight = candidates[j]
        if in_flight:
            deferred += 1
            continue
        new_lots = remaining
        if not -tolerance_lots <= remaining - want_lots <= tolerance_lots:
            new_lots = want_lots
        if room is not None and new_lots > remaining:
            grow = new_lots - remaining
            if grow > room:
                grow = room if room > 0 else 0
                new_lots = remaining + grow
                deferred += 1
            room -= grow
        want_key = sign * want_price
        if new_lots == remaining and want_key == key:
            continue
        amend = Amend(order.client_order_id, want_price, filled + new_lots)
        if want_key <= key:
            retreats.append(amend)
        else:
            advances.append(amend)
    return _SidePlan(cancels, retreats, advances, inserts, None, deferred)


def _in_place(
    levels: list[Level],
    candidates: list[_Candidate],
    sign: int,
    threshold_ticks: int,
    tolerance_lots: int,
) -> bool:
    """True when the i-th candidate, as given, sits in the keep band of the i-th level.

    The steady state, checked without the matching's bookkeeping. Keep bands are disjoint
    and descending, so candidates that pass are already sorted best first, and the sweep of
    `_plan_side` would keep each level's own candidate: the plan is empty either way.
    """
    last = len(levels) - 1
    for i, (price, lots) in enumerate(levels):
        want_key = sign * price
        floor_key = want_key - threshold_ticks
        if i < last:
            next_key = sign * levels[i + 1][0]
            if next_key > floor_key:
                floor_key = next_key
        candidate = candidates[i]
        key = candidate[0]
        if (
            not floor_key < key <= want_key
            or not -tolerance_lots <= candidate[1] - lots <= tolerance_lots
        ):
            return False
    return True


def _mass_quote_side(
    levels: list[Level],
    candidates: list[_Candidate],
    side: Side,
    match: list[int],
    used: list[bool],
    min_lots: int,
    room_lots: int | None,
) -> _SidePlan:
    """One side of a mass quote: None when nothing changed, else the whole side.

    A side array replaces every earlier quote on the side, so a changed side is sent in full;
    a level we keep goes out exactly as it was quoted (its price, and the amount it was sent
    with, not what is left of it after fills): the exchange compares a quote with the previous
    call's and leaves an identical one in place, with its queue priority and its remaining size
    (API.md §5.6). Replacement is not volume-safe, so every new level costs exposure room while
    the quotes it replaces still count.
    """
    sign = 1 if side is _BUY else -1
    quotes: list[Quote] = []
    changed = False
    deferred = 0
    room = room_lots
    for i, (want_price, want_lots) in enumerate(levels):
        j = match[i]
        if j >= 0:
            key, remaining, filled, _, _ = candidates[j]
            quotes.append(Quote(side, sign * key, remaining + filled))
            continue
        amount = want_lots
        if room is not None and room < amount:
            deferred += 1
            # Without room for the whole level, a quote already resting at its price stays as
            # it is: replacing it would cost its new size while the old one still counts.
            same = _unused_at(candidates, used, sign * want_price)
            if same >= 0:
                used[same] = True
                _, remaining, filled, _, _ = candidates[same]
                quotes.append(Quote(side, want_price, remaining + filled))
                continue
            amount = room
        if amount < min_lots:
            continue
        if room is not None:
            room -= amount
        quotes.append(Quote(side, want_price, amount))
        changed = True
    if not changed and all(used):
        return _SidePlan([], [], [], [], None, deferred)
    return _SidePlan([], [], [], [], tuple(quotes), deferred)


def _unused_at(candidates: list[_Candidate], used: list[bool], key: int) -> int:
    for j, candidate in enumerate(candidates):
        if candidate[0] == key and not used[j]:
            return j
    return -1
