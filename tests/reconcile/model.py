"""A model exchange for plans: send a plan from the bot's side, then let the exchange
acknowledge everything, and the checks every plan must pass (DESIGN.md §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from thalex_trio.domain.actions import Action, Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.enums import ChangeReason, DeleteReason, OrderStatus, Side
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId
from thalex_trio.domain.order import Order, OrderState, OrderUpdate, RequestKind
from thalex_trio.reconcile.exposure import Exposure, exposure
from thalex_trio.reconcile.ladder import Level, target_levels
from thalex_trio.reconcile.reconciler import Plan, reconcile

if TYPE_CHECKING:
    from tests.reconcile.strategies import Case


def run(case: Case, orders: tuple[Order, ...] | None = None, next_id: int | None = None) -> Plan:
    """Reconcile `case` (optionally with other orders and the next free client order id)."""
    return reconcile(
        case.ladder,
        case.orders if orders is None else orders,
        position_lots=case.position_lots,
        instrument=case.instrument,
        params=case.params,
        limits=case.limits,
        next_client_order_id=case.next_id if next_id is None else ClientOrderId(next_id),
        best_bid_ticks=case.best_bid_ticks,
        best_ask_ticks=case.best_ask_ticks,
        now_ns=case.now_ns,
    )


def target(order: Order) -> tuple[int, int]:
    """Where an order rests or is heading: (price_ticks, remaining_lots) once acknowledged."""
    filled = max(order.filled_lots, order.reported_filled_lots)
    if order.state is OrderState.PENDING_AMEND:
        assert order.pending_price_ticks is not None
        assert order.pending_amount_lots is not None
        return order.pending_price_ticks, order.pending_amount_lots - filled
    return order.price_ticks, order.amount_lots - filled


def quoted(order: Order) -> tuple[int, int]:
    """What a mass quote placed the order with, as the exchange compares a new quote: (price,
    amount), the amount including whatever has filled since."""
    price, remaining = target(order)
    return price, remaining + max(order.filled_lots, order.reported_filled_lots)


def send(
    orders: tuple[Order, ...], actions: tuple[Action, ...], first_id: int
) -> tuple[Order, ...]:
    """The bot's view right after sending `actions` (nothing acknowledged yet).

    A mass quote is tracked as orders: per sent side, an order sent again with the price and
    amount it was quoted with (`quoted`) stays as it is, every other order on the side is
    cancelled, and each new level is inserted with the next id from `first_id`.
    """
    by_id = {o.client_order_id: o for o in orders}
    next_id = first_id
    for action in actions:
        match action:
            case Insert():
                by_id[action.client_order_id] = Order.new_insert(
                    action.client_order_id,
                    action.instrument_name,
                    action.side,
                    action.price_ticks,
                    action.amount_lots,
                    placed_ns=0,
                    post_only=action.post_only,
                )
            case Amend():
                order = by_id[action.client_order_id]
                by_id[order.client_order_id] = order.request_amend(
                    action.price_ticks, action.amount_lots, now_ns=0
                )
            case Cancel():
                by_id[action.client_order_id] = by_id[action.client_order_id].request_cancel()
            case MassQuote():
                for side, quotes in ((Side.BUY, action.bids), (Side.SELL, action.asks)):
                    if quotes is None:
                        continue
                    wanted = [(q.price_ticks, q.amount_lots) for q in quotes]
                    for order in list(by_id.values()):
                        if order.side is not side or order.state in (
                            OrderState.TERMINAL,
                            OrderState.PENDING_CANCEL,
                        ):
                            continue
                        if quoted(order) in wanted:
                            wanted.remove(quoted(order))  # identical: left as it is
                        else:
                            by_id[order.client_order_id] = order.request_cancel()
                    for price, lots in wanted:
                        cid = ClientOrderId(next_id)
                        next_id += 1
                        by_id[cid] = Order.new_insert(
                            cid, action.instrument_name, side, price, lots, placed_ns=0
                        )
            case _:
                assert_never(action)
    return tuple(by_id.values())


def _update(
    order: Order, status: OrderStatus, reason: ChangeReason, price: int, amount: int
) -> OrderUpdate:
    filled = max(order.filled_lots, order.reported_filled_lots)
    delete = None if status.is_active else DeleteReason.CLIENT_CANCEL
    return OrderUpdate(
        order.client_order_id,
        ExchangeOrderId(f"{order.client_order_id:016X}"),
        status,
        reason,
        price,
        amount,
        filled,
        (),
        delete,
    )


def _active(filled: int) -> OrderStatus:
    return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN


def _gone(filled: int) -> OrderStatus:
    return OrderStatus.CANCELLED_PARTIALLY_FILLED if filled else OrderStatus.CANCELLED


def settle(orders: tuple[Order, ...]) -> tuple[Order, ...]:
    """The bot's view once the exchange has acknowledged every request in flight (no fills).

    Finished orders whose reported fills we never received stay, as a runtime keeps them: their
    fills are not in the position yet."""
    out = []
    for order in orders:
        filled = max(order.filled_lots, order.reported_filled_lots)
        match order.state:
            case OrderState.TERMINAL:
                done = order
            case OrderState.OPEN:
                done = order
            case OrderState.PENDING_INSERT:
                update = _update(
                    order,
                    _active(filled),
                    ChangeReason.INSERT,
                    order.price_ticks,
                    order.amount_lots,
                )
                done = order.apply_result(RequestKind.INSERT, update)[0]
            case OrderState.PENDING_AMEND:
                price, amount = order.pending_price_ticks, order.pending_amount_lots
                assert price is not None
                assert amount is not None
                status = _active(filled) if amount > filled else _gone(filled)
                done, _ = order.apply_result(
                    RequestKind.AMEND, _update(order, status, ChangeReason.AMEND, price, amount)
                )
            case OrderState.PENDING_CANCEL:
                # any amend overtaken by it is processed first, then the cancel
                update = _update(
                    order, _gone(filled), ChangeReason.CANCEL, order.price_ticks, order.amount_lots
                )
                done = order.apply_result(RequestKind.CANCEL, update)[0]
            case _:
                assert_never(order.state)
        if not done.is_terminal or done.unaccounted_fill_lots > 0:
            out.append(done)
    return tuple(out)


def resting(orders: tuple[Order, ...], side: Side) -> list[Level]:
    """(price, remaining) of our live orders on one side, best first."""
    levels = [target(o) for o in orders if o.side is side and not o.is_terminal]
    return sorted(levels, reverse=side is Side.BUY)


def settled_target(case: Case, side: Side) -> list[Level]:
    """The levels the plan aims for once nothing is in flight."""
    cap = case.limits.max_exposure_lots
    is_bid = side is Side.BUY
    post_only = case.params.post_only
    unseen = sum(max(o.unaccounted_fill_lots, 0) for o in case.orders if o.side is side)
    return target_levels(
        case.ladder.side(side),
        is_bid=is_bid,
        min_order_lots=case.instrument.min_order_lots,
        max_order_lots=case.limits.max_order_lots,
        opposite_best_ticks=(case.best_ask_ticks if is_bid else case.best_bid_ticks)
        if post_only
        else None,
        blocked_from_ticks=None,
        budget_lots=None if cap is None else cap - side.sign * case.position_lots - unseen,
    )


def matches(case: Case, have: list[Level], want: list[Level], side: Side) -> bool:
    """One order per level, each within the amend threshold behind it and the size tolerance."""
    if len(have) != len(want):
        return False
    threshold, tolerance = case.params.amend_threshold_ticks, case.params.size_tolerance_lots
    for (price, lots), (want_price, want_lots) in zip(have, want, strict=True):
        behind = (want_price - price) * side.sign
        if not (0 <= behind < threshold and abs(lots - want_lots) <= tolerance):
            return False
    return True


def quotes_in_place(case: Case, orders: tuple[Order, ...], want: list[Level], side: Side) -> bool:
    """`matches` for the mass-quote style, where a quote quoted with the level's amount is in
    place whatever has filled of it (the exchange cannot refill it in place)."""
    live = sorted(
        (o for o in orders if o.side is side and not o.is_terminal),
        key=lambda o: target(o)[0],
        reverse=side is Side.BUY,
    )
    if len(live) != len(want):
        return False
    threshold, tolerance = case.params.amend_threshold_ticks, case.params.size_tolerance_lots
    for order, (want_price, want_lots) in zip(live, want, strict=True):
        price, lots = target(order)
        behind = (want_price - price) * side.sign
        sized = abs(lots - want_lots) <= tolerance or quoted(order)[1] == want_lots
        if not (0 <= behind < threshold and sized):
            return False
    return True


def exposures_along(case: Case, plan: Plan) -> list[Exposure]:
    """Worst-case exposure after each prefix of the plan has been sent."""
    orders = case.orders
    seen = [exposure(case.position_lots, orders)]
    next_id = 10_000
    for action in plan.actions:
        orders = send(orders, (action,), next_id)
        next_id += 100
        seen.append(exposure(case.position_lots, orders))
    return seen


def prices_over_processing(case: Case, plan: Plan) -> list[tuple[Side, int, list[int]]]:
    """For every price the plan sends, in order: the prices our opposite orders may rest at
    when the exchange processes it (orders in flight at every price they may rest at)."""
    may_rest: dict[ClientOrderId, tuple[Side, set[int]]] = {}
    for order in case.orders:
        if order.is_terminal:
            continue
        prices = {order.price_ticks}
        if order.pending_price_ticks is not None:
            prices.add(order.pending_price_ticks)
        may_rest[order.client_order_id] = (order.side, prices)
    checks = []
    for action in plan.actions:
        match action:
            case Cancel():
                del may_rest[action.client_order_id]
            case Amend() | Insert():
                if isinstance(action, Insert):
                    side = action.side
                else:
                    side = may_rest[action.client_order_id][0]
                opposite = [p for s, ps in may_rest.values() if s is not side for p in ps]
                checks.append((side, action.price_ticks, opposite))
                may_rest[action.client_order_id] = (side, {action.price_ticks})
            case MassQuote():
                pass
            case _:
                assert_never(action)
    return checks
