"""The executor: desired ladder + our orders -> reconcile -> rate-limited sends.

One plan in flight per instrument: a plan's actions go out in order (cancels first, as the
reconciler orders them), each awaited, and the next plan is computed from the tracker once the
previous one is answered. The session's rate limiter paces the sends.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, assert_never

import trio

from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.events import OrderEvent
from thalex_trio.domain.order import OrderState
from thalex_trio.reconcile.reconciler import reconcile
from thalex_trio.runtime.feed import record_fills
from thalex_trio.runtime.venue import VenueRejected, request_kind

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext, Trading
    from thalex_trio.runtime.venue import Venue

_log = logging.getLogger(__name__)


async def run_executor(ctx: RunContext, trading: Trading, venue: Venue) -> None:
    """Reconcile whenever the desired ladder or our orders change, until cancelled."""
    measured = 0  # the ladder version whose tick-to-order latency was recorded
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
        if plan.is_empty:
            continue
        ctx.stats.plans += 1
        origin_ns = current.origin_perf_ns if current.version != measured else None
        for action in plan.actions:
            if trading.order_feed is not None:
                await trading.order_feed.settled()
            if not still_applies(trading, action):
                continue  # the order changed while earlier actions were answered
            if origin_ns is not None:
                # Tick-to-order: from the market frame behind this ladder to its first order.
                ctx.stats.record_latency(time.perf_counter_ns() - origin_ns)
                measured, origin_ns = current.version, None
            await send_action(ctx, trading, venue, action)
        tracker.prune()


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
    """Send one action and fold its result (or rejection) into the tracker."""
    match action:
        case Insert() | Amend() | Cancel():
            pass
        case MassQuote():
            raise NotImplementedError("the runtime sends single orders (reconcile.style=orders)")
        case _:
            assert_never(action)
    tracker = trading.tracker
    stats = ctx.stats
    tracker.on_sent(action, ctx.now_ns())
    kind = request_kind(action)
    stats.orders_sent += 1
    match action:
        case Insert():
            stats.inserts += 1
        case Amend():
            stats.amends += 1
        case Cancel():
            stats.cancels += 1
    sent_s = trio.current_time()
    try:
        update = await venue.execute(action)
    except VenueRejected as exc:
        stats.round_trip_s = trio.current_time() - sent_s
        if exc.throttled:
            stats.throttles += 1
        else:
            stats.rejects += 1
        _log.info("%s of order %d rejected: %s", kind.value, action.client_order_id, exc)
        await trio.lowlevel.checkpoint()
        tracker.on_rejected(action.client_order_id, kind, exc.code)
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
