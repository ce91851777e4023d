"""The executor: desired ladder + our orders -> reconcile -> rate-limited sends.

One plan in flight per instrument: a plan's actions go out in order (cancels first, as the
reconciler orders them), and the next plan is computed from the tracker once every action of
the previous one is answered. Within a plan, an action goes out as soon as the one before it
has left (the exchange applies one connection's requests to an instrument in order), not once
it is answered: a plan costs one round trip, not one per action, and a market update that
arrives meanwhile waits that much less. Each action in flight has its own task (it waits for
its answer); the session's send hook tells the executor when its frame is out. The session's
rate limiter paces the sends.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_never

import trio

from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.events import OrderEvent, RpcErrorEvent
from thalex_trio.domain.order import ORDER_NOT_FOUND, OrderState
from thalex_trio.reconcile.reconciler import reconcile
from thalex_trio.runtime.feed import record_fills
from thalex_trio.runtime.venue import VenueRejected, method_of, request_kind

if TYPE_CHECKING:
    from collections.abc import Sequence

    from thalex_trio.runtime.context import RunContext, Trading
    from thalex_trio.runtime.venue import Venue

_log = logging.getLogger(__name__)


async def run_executor(ctx: RunContext, trading: Trading, venue: Venue) -> None:
    """Reconcile whenever the desired ladder or our orders change, until cancelled."""
    clock = ctx.tick_to_order
    seen = 0  # the newest ladder version reconciled: a ladder is a latency sample only once
    while True:
        await trading.executor_wake.wait()
        current = trading.desired.current
        if current is None:
            continue
        tracker = trading.tracker
        plan = reconcile(
            current.value,
            tracker.orders(),
            position_lots=tracker.position.size_lots,
            instrument=trading.instrument,
            params=ctx.reconcile_params,
            limits=ctx.reconcile_limits,
            next_client_order_id=tracker.next_client_order_id,
            best_bid_ticks=trading.best_bid_ticks,
            best_ask_ticks=trading.best_ask_ticks,
            now_ns=ctx.now_ns(),
        )
        fresh = current.version != seen
        seen = current.version
        if plan.is_empty:
            continue
        ctx.stats.plans += 1
        if fresh:
            # Tick-to-order: from the market frames behind this ladder to its first order.
            clock.arm(current.origin_ns, current.published_ns)
        await execute_plan(ctx, trading, venue, plan.actions)
        clock.disarm()
        tracker.prune()


async def execute_plan(
    ctx: RunContext,
    trading: Trading,
    venue: Venue,
    actions: Sequence[Insert | Amend | Cancel | MassQuote],
) -> None:
    """Send `actions` in order, each once the previous one has left; return when all are
    answered. The plan's last action is sent from this task (a one-action plan starts no
    task)."""
    last = len(actions) - 1
    async with trio.open_nursery() as in_flight:
        for i, action in enumerate(actions):
            if not still_applies(trading, action):
                continue  # the order changed while earlier actions were answered
            if i == last:
                await send_action(ctx, trading, venue, action)
            else:
                await in_flight.start(_send_in_flight, ctx, trading, venue, action)


async def _send_in_flight(
    ctx: RunContext,
    trading: Trading,
    venue: Venue,
    action: Insert | Amend | Cancel | MassQuote,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """`send_action`, reporting started as soon as the request frame has left."""
    sends = ctx.sends
    sends.when_sent(task_status.started)
    try:
        await send_action(ctx, trading, venue, action)
    finally:
        sent_nothing = sends.forget()
    if sent_nothing:  # moot by the time it ran, or answered without a frame: start must end
        task_status.started()


def still_applies(trading: Trading, action: Insert | Amend | Cancel | MassQuote) -> bool:
    """False when an update that arrived during the plan made `action` moot (the order filled
    or was cancelled): the next plan starts from the new state instead."""
    match action:
        case Amend():
            order = trading.tracker.order(action.client_order_id)
            return order is not None and order.state is OrderState.OPEN
        case Cancel():
            order = trading.tracker.order(action.client_order_id)
            return order is not None and order.state not in (
                OrderState.PENDING_CANCEL,
                OrderState.TERMINAL,
            )
        case Insert() | MassQuote():
            return True
        case _:
            assert_never(action)


async def send_action(
    ctx: RunContext, trading: Trading, venue: Venue, action: Insert | Amend | Cancel | MassQuote
) -> None:
    """Send one action and fold its result (or rejection) into the tracker; nothing when it
    no longer applies. The venue's message rate is waited for first, then order events
    already received are applied, and the check comes after them with no checkpoint until
    the venue has the request: an amend for an order whose fill is already here earns a
    rejection."""
    match action:
        case Insert() | Amend() | Cancel():
            pass
        case MassQuote():
            raise NotImplementedError("the runtime sends single orders (reconcile.style=orders)")
        case _:
            assert_never(action)
    while True:  # the message rate first: any wait comes before the last look at the order
        delay_s = venue.reserve_nowait(action)
        if delay_s <= 0:
            break
        await trio.sleep(delay_s)
    order_feed = trading.order_feed
    if order_feed is not None and not order_feed.settled_with(venue):
        await order_feed.settled(venue)
    if not still_applies(trading, action):
        await trio.lowlevel.checkpoint()
        return
    ctx.tick_to_order.hand_over()  # this task sends it (the executor, or one it started)
    tracker = trading.tracker
    stats = ctx.stats
    sent_ns = ctx.now_ns()
    tracker.on_sent(action, sent_ns)
    pending = tracker.order(action.client_order_id)
    if pending is not None:  # the request, as the pending state it puts the order in
        ctx.emit(OrderEvent.from_order(ctx.run_id, sent_ns, pending))
    kind = request_kind(action)
    sent_s = trio.current_time()
    stats.record_order(sent_s)
    match action:
        case Insert():
            stats.inserts += 1
        case Amend():
            stats.amends += 1
        case Cancel():
            stats.cancels += 1
    try:
        update = await venue.execute(action)
    except VenueRejected as exc:
        stats.round_trip_s = trio.current_time() - sent_s
        if exc.throttled:
            stats.throttles += 1
        else:
            stats.rejects += 1
            stats.rejects_by_code[exc.code] = stats.rejects_by_code.get(exc.code, 0) + 1
        _log.info("%s of order %d rejected: %s", kind.value, action.client_order_id, exc)
        ctx.emit(RpcErrorEvent(ctx.run_id, ctx.now_ns(), method_of(action), exc.code, exc.message))
        await trio.lowlevel.checkpoint()
        tracker.on_rejected(action.client_order_id, kind, exc.code)
        if exc.code == ORDER_NOT_FOUND:
            trading.position_doubt.set()  # gone without a word to us: perhaps filled
        order = tracker.order(action.client_order_id)
        if order is not None:
            ctx.emit(OrderEvent.from_order(ctx.run_id, ctx.now_ns(), order))
        return
    stats.round_trip_s = trio.current_time() - sent_s
    record_fills(ctx, trading, tracker.on_result(kind, update))
    order = tracker.order(action.client_order_id)
    if order is not None:
        ctx.emit(
            OrderEvent.from_order(
                ctx.run_id, ctx.now_ns(), order, change_reason=update.change_reason
            )
        )
