"""The order tracker against a model exchange whose two report streams interleave.

The model exchange holds the truth for a few orders. Each of our requests is sent (the tracker
hears of it at once), processed by the exchange later, and answered by an RPC result; every
change also yields an order-channel notification. Notifications arrive in the exchange's order,
results in request order, and the two streams interleave arbitrarily. Once both are drained, the
tracker must agree with the exchange, and every fill must have been reported exactly once.
"""

from __future__ import annotations

from collections import deque

import pytest
from attrs import define, evolve, field
from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.domain.actions import Amend, Cancel, Insert
from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    InstrumentKind,
    Liquidity,
    OrderStatus,
    Side,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.order import (
    ORDER_NOT_FOUND,
    IllegalTransition,
    OrderState,
    OrderUpdate,
    RequestKind,
)
from thalex_trio.domain.position import Position
from thalex_trio.reconcile.tracker import EARLY_FEES_KEPT, OrderTracker

INSTRUMENT = Instrument(
    name="BTC-PERPETUAL",
    kind=InstrumentKind.PERPETUAL,
    underlying="BTCUSD",
    tick_size=1.0,
    volume_tick_size=0.001,
    min_order_amount=0.001,
)


@define
class Truth:
    """The exchange's view of one order (status None: insert not processed yet)."""

    cid: ClientOrderId
    side: Side
    price_ticks: int
    amount_lots: int
    status: OrderStatus | None = None
    fills: list[Fill] = field(factory=list)

    @property
    def filled(self) -> int:
        return sum(f.amount_lots for f in self.fills)

    def report(self, reason: ChangeReason, fills: tuple[Fill, ...]) -> OrderUpdate:
        assert self.status is not None
        delete = None
        if self.status is OrderStatus.FILLED:
            delete = DeleteReason.FILLED
        elif not self.status.is_active:
            delete = DeleteReason.CLIENT_CANCEL
        return OrderUpdate(
            self.cid,
            ExchangeOrderId(f"{self.cid:016X}"),
            self.status,
            reason,
            self.price_ticks,
            self.amount_lots,
            self.filled,
            fills,
            delete,
        )

    def active_status(self) -> OrderStatus:
        return OrderStatus.PARTIALLY_FILLED if self.filled else OrderStatus.OPEN


# One inbound request: kind, client id, and the amend's price/amount.
Request = tuple[RequestKind, ClientOrderId, int, int]
Result = tuple[RequestKind, ClientOrderId, OrderUpdate | None, int | None]


@define
class World:
    tracker: OrderTracker = field(factory=lambda: OrderTracker(INSTRUMENT))
    truth: dict[ClientOrderId, Truth] = field(factory=dict)
    inbound: deque[Request] = field(factory=deque)
    results: deque[Result] = field(factory=deque)
    notifications: deque[OrderUpdate] = field(factory=deque)
    reported: list[Fill] = field(factory=list)
    trade_seq: int = 0

    def process(self) -> None:
        kind, cid, price, amount = self.inbound.popleft()
        order = self.truth[cid]
        update: OrderUpdate
        match kind:
            case RequestKind.INSERT:
                order.status = OrderStatus.OPEN
                update = order.report(ChangeReason.INSERT, ())
            case RequestKind.AMEND | RequestKind.CANCEL:
                assert order.status is not None
                if not order.status.is_active:
                    self.results.append((kind, cid, None, ORDER_NOT_FOUND))
                    return
                if kind is RequestKind.AMEND:
                    order.price_ticks, order.amount_lots = price, max(amount, order.filled + 1)
                    order.status = order.active_status()
                    update = order.report(ChangeReason.AMEND, ())
                else:
                    order.status = (
                        OrderStatus.CANCELLED_PARTIALLY_FILLED
                        if order.filled
                        else OrderStatus.CANCELLED
                    )
                    update = order.report(ChangeReason.CANCEL, ())
        self.notifications.append(update)
        # RPC results repeat every fill so far: the tracker must not count them twice.
        self.results.append(
            (kind, cid, order.report(update.change_reason, tuple(order.fills)), None)
        )

    def fill(self, cid: ClientOrderId, lots: int) -> None:
        order = self.truth[cid]
        lots = min(lots, order.amount_lots - order.filled)
        self.trade_seq += 1
        fill = Fill(
            TradeId(f"T{self.trade_seq}"),
            INSTRUMENT.name,
            order.side,
            order.price_ticks,
            lots,
            Liquidity.MAKER,
            0.01,
            self.trade_seq,
            cid,
        )
        order.fills.append(fill)
        order.status = (
            OrderStatus.FILLED
            if order.filled == order.amount_lots
            else OrderStatus.PARTIALLY_FILLED
        )
        self.notifications.append(order.report(ChangeReason.FILL, (fill,)))

    def deliver_result(self) -> None:
        kind, cid, update, code = self.results.popleft()
        if update is None:
            assert code is not None
            self.tracker.on_rejected(cid, kind, code)
        else:
            self.reported.extend(self.tracker.on_result(kind, update))

    def deliver_notification(self) -> None:
        self.reported.extend(self.tracker.on_notification(self.notifications.popleft()))


@given(st.data())
def test_interleaved_reports_converge_to_the_exchange_and_count_fills_once(
    data: st.DataObject,
) -> None:
    world = World()
    tracker = world.tracker
    for _ in range(data.draw(st.integers(5, 40), label="steps")):
        choice = data.draw(st.integers(0, 5))
        if choice == 0 and len(world.truth) < 3:
            cid = tracker.next_client_order_id
            side = data.draw(st.sampled_from(Side))
            price = data.draw(st.integers(90, 110))
            amount = data.draw(st.integers(1, 10))
            tracker.on_sent(Insert(cid, INSTRUMENT.name, side, price, amount), 0)
            world.truth[cid] = Truth(cid, side, price, amount)
            world.inbound.append((RequestKind.INSERT, cid, 0, 0))
        elif choice == 1 and tracker.orders():
            order = data.draw(st.sampled_from(tracker.orders()))
            if order.state is OrderState.OPEN and data.draw(st.booleans()):
                price, amount = data.draw(st.integers(90, 110)), data.draw(st.integers(1, 12))
                amount = max(amount, order.filled_lots + 1)
                tracker.on_sent(Amend(order.client_order_id, price, amount), 0)
                world.inbound.append((RequestKind.AMEND, order.client_order_id, price, amount))
            elif order.state not in (OrderState.PENDING_CANCEL, OrderState.TERMINAL):
                tracker.on_sent(Cancel(order.client_order_id), 0)
                world.inbound.append((RequestKind.CANCEL, order.client_order_id, 0, 0))
        elif choice == 2 and world.inbound:
            world.process()
        elif choice == 3:
            active = [t for t in world.truth.values() if t.status and t.status.is_active]
            if active:
                world.fill(data.draw(st.sampled_from(active)).cid, data.draw(st.integers(1, 5)))
        elif choice == 4 and world.results:
            world.deliver_result()
        elif world.notifications:
            world.deliver_notification()
        assert tracker.position.size_lots == sum(f.signed_lots for f in world.reported)
    while world.inbound:
        world.process()
    while world.results or world.notifications:
        if world.results and (not world.notifications or data.draw(st.booleans())):
            world.deliver_result()
        else:
            world.deliver_notification()

    every_fill = [f for t in world.truth.values() for f in t.fills]
    assert sorted(f.trade_id for f in world.reported) == sorted(f.trade_id for f in every_fill)
    assert tracker.position.size_lots == sum(f.signed_lots for f in every_fill)
    assert tracker.position.fill_count == len(every_fill)
    for cid, truth in world.truth.items():
        tracked = tracker.order(cid)
        assert tracked is not None
        assert tracked.filled_lots == truth.filled
        assert truth.status is not None
        if truth.status.is_active:
            assert tracked.state is OrderState.OPEN
            assert (tracked.status, tracked.price_ticks, tracked.amount_lots) == (
                truth.status,
                truth.price_ticks,
                truth.amount_lots,
            )
        else:
            assert tracked.state is OrderState.TERMINAL
            assert tracked.status is truth.status
    assert not tracker.has_in_flight()
    # What we take out of the public book is what the exchange has resting there.
    resting: tuple[dict[int, int], dict[int, int]] = ({}, {})
    for truth in world.truth.values():
        if truth.status is not None and truth.status.is_active:
            side = resting[0] if truth.side is Side.BUY else resting[1]
            left = truth.amount_lots - truth.filled
            side[truth.price_ticks] = side.get(truth.price_ticks, 0) + left
    assert tracker.book_lots() == resting
    tracker.prune()
    live = {t.cid for t in world.truth.values() if t.status is not None and t.status.is_active}
    assert {o.client_order_id for o in tracker.orders()} == live


def _update(
    cid: int,
    status: OrderStatus = OrderStatus.OPEN,
    filled: int = 0,
    fills: tuple[Fill, ...] = (),
    reason: ChangeReason = ChangeReason.EXISTING,
) -> OrderUpdate:
    return OrderUpdate(
        ClientOrderId(cid), ExchangeOrderId("E"), status, reason, 100, 5, filled, fills
    )


def _fill(trade: str, side: Side = Side.BUY, lots: int = 2, cid: int = 7) -> Fill:
    return Fill(
        TradeId(trade),
        INSTRUMENT.name,
        side,
        100,
        lots,
        Liquidity.MAKER,
        0.0,
        1,
        ClientOrderId(cid),
    )


def test_adopting_a_snapshot_order_keeps_its_past_fills_out_of_the_position() -> None:
    tracker = OrderTracker(INSTRUMENT)
    tracker.set_baseline(Position(INSTRUMENT.name, size_lots=2))
    tracker.adopt(_update(7, OrderStatus.PARTIALLY_FILLED, 2, (_fill("a"),)), Side.BUY, 0)
    order = tracker.order(ClientOrderId(7))
    assert order is not None
    assert order.state is OrderState.OPEN
    assert order.filled_lots == 2
    assert tracker.position.size_lots == 2
    assert tracker.next_client_order_id == 8
    assert tracker.exposure_lots() == (3, 0, 0, 0)
    # The same fill repeated later is not new; a new one is.
    later = _update(7, OrderStatus.FILLED, 5, (_fill("a"), _fill("b", lots=3)), ChangeReason.FILL)
    assert [f.trade_id for f in tracker.on_notification(later)] == ["b"]
    assert tracker.position.size_lots == 5


def test_unknown_notifications_are_adopted_only_while_active() -> None:
    tracker = OrderTracker(INSTRUMENT)
    assert tracker.on_notification(_update(3), side=Side.SELL) == ()
    assert tracker.order(ClientOrderId(3)) is not None
    assert tracker.on_notification(_update(4, OrderStatus.CANCELLED)) == ()
    assert tracker.order(ClientOrderId(4)) is None
    # Active, but no side to be had: nothing sensible to adopt.
    tracker.on_notification(_update(5))
    assert tracker.order(ClientOrderId(5)) is None
    assert tracker.exposure_lots() == (0, 5, 0, 0)


def test_in_flight_orders_count_separately_and_sent_actions_follow_the_state_machine() -> None:
    tracker = OrderTracker(INSTRUMENT, ClientOrderId(10))
    tracker.on_sent(Insert(ClientOrderId(10), INSTRUMENT.name, Side.BUY, 99, 4), 0)
    tracker.on_sent(Insert(ClientOrderId(11), INSTRUMENT.name, Side.SELL, 101, 3), 0)
    assert tracker.next_client_order_id == 12
    assert tracker.exposure_lots() == (0, 0, 4, 3)
    with pytest.raises(IllegalTransition):
        tracker.on_sent(Amend(ClientOrderId(10), 98, 4), 0)
    with pytest.raises(IllegalTransition):
        tracker.on_sent(Cancel(ClientOrderId(99)), 0)
    tracker.on_rejected(ClientOrderId(11), RequestKind.INSERT, 13)
    tracker.prune()
    assert [o.client_order_id for o in tracker.orders()] == [10]


def test_book_lots_count_what_the_book_may_show_before_the_answers_come() -> None:
    tracker = OrderTracker(INSTRUMENT, ClientOrderId(7))
    tracker.on_sent(Insert(ClientOrderId(7), INSTRUMENT.name, Side.BUY, 100, 5), 0)
    tracker.on_sent(Insert(ClientOrderId(8), INSTRUMENT.name, Side.BUY, 100, 4), 0)
    tracker.on_sent(Insert(ClientOrderId(9), INSTRUMENT.name, Side.SELL, 103, 3), 0)
    # Not answered yet, all three may already show in the book.
    assert tracker.book_lots() == ({100: 9}, {103: 3})
    fill = _fill("f", Side.BUY, 2, cid=7)
    tracker.on_result(
        RequestKind.INSERT, _update(7, OrderStatus.PARTIALLY_FILLED, 2, (fill,), ChangeReason.FILL)
    )
    tracker.on_rejected(ClientOrderId(9), RequestKind.INSERT, 13)
    assert tracker.book_lots() == ({100: 7}, {})
    # An amend in flight: the order may rest at either price until the answer.
    tracker.on_sent(Amend(ClientOrderId(7), 98, 5), 0)
    assert tracker.book_lots() == ({100: 7, 98: 3}, {})
    tracker.on_result(
        RequestKind.AMEND,
        OrderUpdate(
            ClientOrderId(7),
            ExchangeOrderId("E"),
            OrderStatus.PARTIALLY_FILLED,
            ChangeReason.AMEND,
            98,
            5,
            2,
            (),
        ),
    )
    assert tracker.book_lots() == ({100: 4, 98: 3}, {})


def test_fills_from_trade_history_are_counted_once() -> None:
    tracker = OrderTracker(INSTRUMENT)
    assert tracker.on_fill(_fill("x", Side.SELL, 2))
    assert not tracker.on_fill(_fill("x", Side.SELL, 2))
    assert tracker.position.size_lots == -2
    with pytest.raises(IllegalTransition):
        tracker.set_baseline(Position(INSTRUMENT.name))


def test_fees_from_the_trade_history_count_once_whichever_comes_first() -> None:
    tracker = OrderTracker(INSTRUMENT)
    # An order fill carries no fee; the history's fee for it comes after.
    tracker.on_fill(_fill("a"))
    assert tracker.on_fee(TradeId("a"), -0.02) == -0.02
    assert tracker.on_fee(TradeId("a"), -0.02) == 0.0  # repeated: not counted again
    # A fee before its fill waits for it.
    assert tracker.on_fee(TradeId("b"), 0.05) == 0.0
    assert tracker.position.fees == -0.02
    tracker.on_fill(_fill("b"))
    assert tracker.position.fees == pytest.approx(0.03)
    # A catch-up fill from the trade history already has its fee: its note changes nothing.
    tracker.on_fill(evolve(_fill("c"), fee=0.01))
    assert tracker.on_fee(TradeId("c"), 0.01) == 0.0
    assert tracker.position.fees == pytest.approx(0.04)
    assert tracker.position.size_lots == 6


def test_fees_of_trades_not_in_our_position_are_not_counted() -> None:
    tracker = OrderTracker(INSTRUMENT)
    # A snapshot order's past fill predates our view (the baseline has it): so does its fee.
    tracker.adopt(_update(7, OrderStatus.PARTIALLY_FILLED, 2, (_fill("old"),)), Side.BUY, 0)
    assert tracker.on_fee(TradeId("old"), 0.5) == 0.0
    # Another session's trades, whose fills never come, are forgotten past a bound.
    for n in range(EARLY_FEES_KEPT + 10):
        tracker.on_fee(TradeId(f"other-{n}"), 1.0)
    tracker.on_fill(_fill("other-0"))  # long dropped: its fill counts without a fee
    tracker.on_fill(_fill("other-20"))  # still kept
    assert tracker.position.fees == 1.0


def test_an_order_found_gone_is_kept_until_its_final_fill_arrives() -> None:
    # Our cancel races a fill: the exchange answers code 1, and the fill report comes after.
    tracker = OrderTracker(INSTRUMENT, ClientOrderId(7))
    tracker.on_sent(Insert(ClientOrderId(7), INSTRUMENT.name, Side.BUY, 100, 5), 0)
    tracker.on_notification(_update(7, reason=ChangeReason.INSERT))
    tracker.on_sent(Cancel(ClientOrderId(7)), 1)
    tracker.on_rejected(ClientOrderId(7), RequestKind.CANCEL, ORDER_NOT_FOUND)
    tracker.prune()
    assert [o.client_order_id for o in tracker.orders()] == [7]  # still counts for exposure
    final = _update(7, OrderStatus.FILLED, 5, (_fill("t1", lots=5),), ChangeReason.FILL)
    assert [f.trade_id for f in tracker.on_notification(final)] == ["t1"]
    assert tracker.position.size_lots == 5
    tracker.prune()
    assert tracker.orders() == ()
