"""The executor: desired ladder + our orders -> reconcile -> rate-limited sends.

One plan in flight per instrument: a plan's actions go out in order (cancels first, as the
reconciler orders them), and the next plan is computed from the tracker once every action of
the previous one is answered. Within a plan, an action goes out as soon as the one before it
has left (the exchange applies one connection's requests to an instrument in order), not once
it is answered: a plan costs one round trip, not one per action, and a market update that
arrives meanwhile waits that much less. Each action in flight has its own task (it waits for
its answer); the session's send hook tells the executor when its frame is out. The session's
rate limiter paces the sends.

A plan can wait long for the rate limiter: after a throttle reply the engine lane stays shut
for seconds. An insert or amend from a plan older than `STALE_PLAN_S` goes out only if the
desired ladder is still the one it was planned from; otherwise it is dropped, with the rest of
the plan's inserts and amends, and the next plan starts from the newest ladder. Its prices were
for a market that has moved on: a post-only bid at an old price can land at the new best ask
less a tick. Cancels still go: they only take exposure away.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_never

import trio
from attrs import frozen

from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.events import OrderEvent, RpcErrorEvent
from thalex_trio.domain.order import ORDER_NOT_FOUND, OrderState
from thalex_trio.domain.quote import QuoteLadder
from thalex_trio.reconcile.reconciler import reconcile
from thalex_trio.runtime.feed import record_fills
from thalex_trio.runtime.venue import VenueRejected, method_of, request_kind

if TYPE_CHECKING:
    from collections.abc import Sequence

    from thalex_trio.runtime.context import RunContext, Trading
    from thalex_trio.runtime.venue import Venue

_log = logging.getLogger(__name__)

STALE_PLAN_S = 0.5
"""Age past which a plan's inserts and amends need their ladder to still be the desired one.
Well above the rate limiter's ordinary pacing (a ten-action plan at 50 messages a second takes
0.2 s), well below a throttle pause (1 s and more)."""


@frozen
class PlanOrigin:
    """The ladder a plan was made from, and when (Trio seconds)."""

    ladder: QuoteLadder
    planned_s: float

    def superseded(self, trading: Trading) -> bool:
        """True once the plan is older than `STALE_PLAN_S` and the desired ladder changed."""
        if trio.current_time() - self.planned_s < STALE_PLAN_S:
            return False
        current = trading.desired.current
        return current is not None and current.value != self.ladder


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
        await execute_plan(
            ctx, trading, venue, plan.actions, PlanOrigin(current.value, trio.current_time())
        )
        clock.disarm()
        tracker.prune()


async def execute_plan(
    ctx: RunContext,
    trading: Trading,
    venue: Venue,
    actions: Sequence[Insert | Amend | Cancel | MassQuote],
    origin: PlanOrigin | None = None,
) -> None:
    """Send `actions` in order, each once the previous one has left; return when all are
    answered. The plan's last action is sent from this task (a one-action plan starts no
    task). With its `origin`, inserts and amends of a stale, superseded plan are dropped."""
    last = len(actions) - 1
    async with trio.open_nursery() as in_flight:
        for i, action in enumerate(actions):
            if not still_applies(trading, action, origin):
                continue  # the order changed while earlier actions were answered
            if i == last:
                await send_action(ctx, trading, venue, action, origin)
            else:
                await in_flight.start(_send_in_flight, ctx, trading, venue, action, origin)


async def _send_in_flight(
    ctx: RunContext,
    trading: Trading,
    venue: Venue,
    action: Insert | Amend | Cancel | MassQuote,
    origin: PlanOrigin | None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """`send_action`, reporting started as soon as the request frame has left."""
    sends = ctx.sends
    sends.when_sent(task_status.started)
    try:
        await send_action(ctx, trading, venue, action, origin)
    finally:
        sent_nothing = sends.forget()
    if sent_nothing:  # moot by the time it ran, or answered without a frame: start must end
        task_status.started()


def still_applies(
    trading: Trading,
    action: Insert | Amend | Cancel | MassQuote,
    origin: PlanOrigin | None = None,
) -> bool:
    """False when an update that arrived during the plan made `action` moot (the order filled
    or was cancelled), or when it places or moves an order for a stale plan whose ladder was
    superseded (`PlanOrigin.superseded`): the next plan starts from the new state instead."""
    match action:
        case Amend():
            if origin is not None and origin.superseded(trading):
                return False
            order = trading.tracker.order(action.client_order_id)
            return order is not None and order.state is OrderState.OPEN
        case Cancel():
            order = trading.tracker.order(action.client_order_id)
            return order is not None and order.state not in (
                OrderState.PENDING_CANCEL,
                OrderState.TERMINAL,
            )
        case Insert() | MassQuote():
            return origin is None or not origin.superseded(trading)
        case _:
            assert_never(action)


async def send_action(
    ctx: RunContext,
    trading: Trading,
    venue: Venue,
    action: Insert | Amend | Cancel | MassQuote,
    origin: PlanOrigin | None = None,
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
    if not still_applies(trading, action, origin):
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
