"""The executor sends a plan's actions back to back, in plan order, and waits for every answer;
the tick-to-order clock samples the first order a ladder causes; a plan held up past
`STALE_PLAN_S` by the rate limiter drops its inserts and amends once its ladder is not the
desired one any more."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import trio
import trio.testing

from thalex_trio.domain.actions import Amend, Cancel, Insert
from thalex_trio.domain.enums import ChangeReason, InstrumentKind, OrderStatus, Side
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.order import OrderUpdate, RequestKind
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.runtime.context import Trading
from thalex_trio.runtime.executor import STALE_PLAN_S, PlanOrigin, execute_plan
from thalex_trio.strategy.quoter import Quoter

from .harness import make_context

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext
    from thalex_trio.runtime.venue import Venue

NAME = "BTC-PERPETUAL"
INSTRUMENT = Instrument(NAME, InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)


class GatedVenue:
    """Each request 'leaves' at once (the send hook fires) and is answered only on release."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.sent: list[Insert | Amend | Cancel] = []
        self.release = trio.Event()

    def reserve_nowait(self, action: Insert | Amend | Cancel) -> float:
        del action
        return 0.0

    def quiet(self) -> bool:
        return True

    async def execute(self, action: Insert | Amend | Cancel) -> OrderUpdate:
        await trio.lowlevel.checkpoint()
        self.sent.append(action)
        self.ctx.sends.on_submit()
        await self.release.wait()
        assert isinstance(action, Insert)
        return opened(action)


def insert(cid: int, price_ticks: int) -> Insert:
    return Insert(ClientOrderId(cid), NAME, Side.BUY, price_ticks, 1)


def opened(action: Insert) -> OrderUpdate:
    """The exchange's answer to `action`: the order rests, unfilled."""
    return OrderUpdate(
        action.client_order_id,
        ExchangeOrderId(f"X{action.client_order_id}"),
        OrderStatus.OPEN,
        ChangeReason.INSERT,
        action.price_ticks,
        action.amount_lots,
        0,
    )


async def test_a_plan_goes_out_back_to_back_in_order_and_ends_when_all_are_answered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    trading = Trading(INSTRUMENT, Quoter(INSTRUMENT), OrderTracker(INSTRUMENT))
    venue = GatedVenue(ctx)
    # The cancel is moot (no such order): skipped, and nothing waits for it.
    plan: list[Insert | Amend | Cancel] = [
        insert(1, 100),
        Cancel(ClientOrderId(99)),
        insert(2, 99),
        insert(3, 98),
    ]
    done = trio.Event()

    async def run_plan() -> None:
        await execute_plan(ctx, trading, cast("Venue", venue), plan)
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_plan)
        await trio.testing.wait_all_tasks_blocked()
        # Every action is out before any is answered, in plan order.
        assert venue.sent == [plan[0], plan[2], plan[3]]
        assert not done.is_set()
        venue.release.set()
    assert done.is_set()
    states = {o.client_order_id: o.state.value for o in trading.tracker.orders()}
    assert states == {1: "open", 2: "open", 3: "open"}


async def test_the_first_order_of_a_ladder_is_the_latency_sample(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    ticks = iter(range(1_000, 100_000, 100))
    ctx.tick_to_order.clock_ns = lambda: next(ticks)
    trading = Trading(INSTRUMENT, Quoter(INSTRUMENT), OrderTracker(INSTRUMENT))
    venue = GatedVenue(ctx)
    venue.release.set()
    clock = ctx.tick_to_order
    clock.arm(origin_ns=500, published_ns=700)  # reads 1000: the plan is ready
    await execute_plan(ctx, trading, cast("Venue", venue), [insert(1, 100), insert(2, 99)])
    clock.disarm()
    # One sample (the first order, sent from a task the executor started), from the origin
    # to the clock's next reading: 1100.
    assert ctx.stats.latency_ns == [600]
    assert ctx.stats.latency_stages_ns == [(200, 300, 100)]
    # Orders that answer no new ladder are not samples.
    await execute_plan(ctx, trading, cast("Venue", venue), [insert(3, 98)])
    assert ctx.stats.latency_ns == [600]


class ThrottledVenue:
    """The engine lane is shut until `open_s` (a throttle pause); cancels have their own lane.
    Every request is answered at once: inserts open, cancels cancel."""

    def __init__(self, ctx: RunContext, open_s: float) -> None:
        self.ctx = ctx
        self.open_s = open_s
        self.sent: list[tuple[float, Insert | Amend | Cancel]] = []

    def reserve_nowait(self, action: Insert | Amend | Cancel) -> float:
        if isinstance(action, Cancel):
            return 0.0
        return max(self.open_s - trio.current_time(), 0.0)

    def quiet(self) -> bool:
        return True

    async def execute(self, action: Insert | Amend | Cancel) -> OrderUpdate:
        await trio.lowlevel.checkpoint()
        self.sent.append((trio.current_time(), action))
        self.ctx.sends.on_submit()
        if isinstance(action, Cancel):
            return OrderUpdate(
                action.client_order_id,
                ExchangeOrderId(f"X{action.client_order_id}"),
                OrderStatus.CANCELLED,
                ChangeReason.CANCEL,
                100,
                1,
                0,
            )
        assert isinstance(action, Insert)
        return opened(action)


def ladder(best_bid_ticks: int) -> QuoteLadder:
    return QuoteLadder(NAME, bids=(Quote(Side.BUY, best_bid_ticks, 1),))


async def _plan_through_a_pause(pause_s: float, desired_after: QuoteLadder) -> list[object]:
    """A plan made from `ladder(100)` (cancel order 7, insert two bids) while the engine lane
    is shut for `pause_s`; the desired ladder becomes `desired_after` half-way through.
    Returns what was sent, in order."""
    ctx = make_context()
    trading = Trading(INSTRUMENT, Quoter(INSTRUMENT), OrderTracker(INSTRUMENT))
    resting = Insert(ClientOrderId(7), NAME, Side.BUY, 90, 1)
    trading.tracker.on_sent(resting, 0)
    trading.tracker.on_result(RequestKind.INSERT, opened(resting))
    trading.desired.publish(ladder(100), origin_ns=0)
    venue = ThrottledVenue(ctx, open_s=trio.current_time() + pause_s)
    plan: list[Insert | Amend | Cancel] = [
        insert(1, 100),
        Cancel(ClientOrderId(7)),
        insert(2, 99),
    ]
    origin = PlanOrigin(ladder(100), trio.current_time())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(execute_plan, ctx, trading, cast("Venue", venue), plan, origin)
        await trio.sleep(pause_s / 2)
        trading.desired.publish(desired_after, origin_ns=0)
    return [action for _, action in venue.sent]


async def test_a_stale_plan_whose_ladder_moved_on_sends_its_cancels_only(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Shut for two seconds by a throttle: the market (and the ladder) moved meanwhile.
    sent = await _plan_through_a_pause(4 * STALE_PLAN_S, ladder(120))
    assert sent == [Cancel(ClientOrderId(7))]


async def test_a_stale_plan_still_wanted_goes_out_in_full(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Republished but the same ladder: the plan is still right, however old.
    sent = await _plan_through_a_pause(4 * STALE_PLAN_S, ladder(100))
    assert sent == [insert(1, 100), Cancel(ClientOrderId(7)), insert(2, 99)]


async def test_a_short_wait_never_drops_a_plan(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The rate limiter's ordinary pacing: the new ladder is the next plan's business.
    sent = await _plan_through_a_pause(STALE_PLAN_S / 2, ladder(120))
    assert sent == [insert(1, 100), Cancel(ClientOrderId(7)), insert(2, 99)]
