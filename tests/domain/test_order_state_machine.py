"""The order state machine against a model exchange whose two report streams interleave.

The model exchange is the truth: one order with a status, a price, an amount and fills. Every
request it processes yields an RPC result (or an error) and an order-channel notification; every
fill yields a notification. Notifications arrive in the exchange's order, RPC results in request
order, and the two streams interleave arbitrarily, as on Thalex (API.md §2.3, §6.3).

After every step the bot's order must be a state the exchange can produce, with `filled_lots`
equal to the sum of the distinct fills it has seen; once both streams are drained, the bot's view
must equal the exchange's.
"""

from __future__ import annotations

import pytest
from attrs import define, field
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from thalex_trio.domain.enums import ChangeReason, DeleteReason, Liquidity, OrderStatus, Side
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId
from thalex_trio.domain.order import (
    ORDER_NOT_FOUND,
    IllegalTransition,
    Order,
    OrderState,
    OrderUpdate,
    RequestKind,
)

OID = ExchangeOrderId("00011E570000004B")


@define
class Result:
    """The RPC result of one of our requests: an update, or an error code."""

    request: RequestKind
    update: OrderUpdate | None = None
    error_code: int | None = None


@define
class ExchangeOrder:
    """The exchange's truth about the order (None status: not inserted yet)."""

    client_order_id: ClientOrderId
    price_ticks: int
    amount_lots: int
    status: OrderStatus | None = None
    fills: list[Fill] = field(factory=list)

    @property
    def filled_lots(self) -> int:
        return sum(f.amount_lots for f in self.fills)

    def report(self, reason: ChangeReason, new: tuple[Fill, ...]) -> OrderUpdate:
        assert self.status is not None
        delete = None
        if self.status is OrderStatus.FILLED:
            delete = DeleteReason.FILLED
        elif not self.status.is_active:
            delete = DeleteReason.CLIENT_CANCEL
        return OrderUpdate(
            self.client_order_id,
            OID,
            self.status,
            reason,
            self.price_ticks,
            self.amount_lots,
            self.filled_lots,
            new,
            delete,
        )


class OrderLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.trade_seq = 0
        self.start(ClientOrderId(1))

    def start(self, cid: ClientOrderId) -> None:
        self.order = Order.new_insert(cid, "BTC-PERPETUAL", Side.BUY, 100, 10, 0)
        self.exchange = ExchangeOrder(cid, price_ticks=100, amount_lots=10)
        self.requests: list[tuple[RequestKind, int, int]] = [(RequestKind.INSERT, 100, 10)]
        self.results: list[Result] = []
        self.notifications: list[OrderUpdate] = []
        self.seen_fills: set[TradeId] = set()

    @property
    def quiescent(self) -> bool:
        return not (self.requests or self.results or self.notifications)

    # -- the exchange processes our requests in the order we sent them -----------------------

    @precondition(lambda self: bool(self.requests))
    @rule()
    def exchange_processes_next_request(self) -> None:
        kind, price, amount = self.requests.pop(0)
        ex = self.exchange
        if kind is RequestKind.INSERT:
            ex.status = OrderStatus.OPEN
            self.publish(kind, ex.report(ChangeReason.INSERT, ()))
        elif ex.status is None or not ex.status.is_active:
            self.results.append(Result(kind, error_code=ORDER_NOT_FOUND))
        elif kind is RequestKind.CANCEL:
            ex.status = (
                OrderStatus.CANCELLED_PARTIALLY_FILLED if ex.fills else OrderStatus.CANCELLED
            )
            self.publish(kind, ex.report(ChangeReason.CANCEL, ()))
        else:
            ex.price_ticks, ex.amount_lots = price, amount
            if amount <= ex.filled_lots:  # volume-safe amend at or below filled cancels
                ex.status = OrderStatus.CANCELLED_PARTIALLY_FILLED
            self.publish(kind, ex.report(ChangeReason.AMEND, ()))

    def publish(self, kind: RequestKind, update: OrderUpdate) -> None:
        self.results.append(Result(kind, update))
        self.notifications.append(update)

    @precondition(lambda self: self.exchange.status is not None and self.exchange.status.is_active)
    @rule(data=st.data())
    def exchange_fills(self, data: st.DataObject) -> None:
        ex = self.exchange
        remaining = ex.amount_lots - ex.filled_lots
        lots = data.draw(st.integers(1, remaining))
        self.trade_seq += 1
        new = Fill(
            TradeId(f"T{self.trade_seq}"),
            "BTC-PERPETUAL",
            Side.BUY,
            ex.price_ticks,
            lots,
            Liquidity.MAKER,
            0.0,
            self.trade_seq,
        )
        ex.fills.append(new)
        ex.status = OrderStatus.FILLED if lots == remaining else OrderStatus.PARTIALLY_FILLED
        self.notifications.append(ex.report(ChangeReason.FILL, (new,)))

    # -- the bot -----------------------------------------------------------------------------

    @precondition(lambda self: bool(self.notifications))
    @rule()
    def bot_receives_next_notification(self) -> None:
        self.count(*self.order.apply(self.notifications.pop(0)))

    @precondition(lambda self: bool(self.results))
    @rule()
    def bot_receives_next_rpc_result(self) -> None:
        result = self.results.pop(0)
        if result.update is None:
            assert result.error_code is not None
            self.order = self.order.reject(result.request, result.error_code)
        else:
            self.count(*self.order.apply_result(result.request, result.update))

    def count(self, order: Order, new: tuple[Fill, ...]) -> None:
        self.order = order
        for f in new:
            assert f.trade_id not in self.seen_fills, "a fill was counted twice"
            self.seen_fills.add(f.trade_id)

    @precondition(lambda self: self.order.state is OrderState.OPEN)
    @rule(price=st.integers(90, 110), amount=st.integers(1, 12))
    def bot_amends(self, price: int, amount: int) -> None:
        self.order = self.order.request_amend(price, amount, now_ns=0)
        self.requests.append((RequestKind.AMEND, price, amount))

    @precondition(
        lambda self: self.order.state not in (OrderState.PENDING_CANCEL, OrderState.TERMINAL)
    )
    @rule()
    def bot_cancels(self) -> None:
        self.order = self.order.request_cancel()
        self.requests.append((RequestKind.CANCEL, 0, 0))

    @precondition(lambda self: self.quiescent and self.order.is_terminal)
    @rule()
    def bot_places_the_next_order(self) -> None:
        self.start(ClientOrderId(self.order.client_order_id + 1))

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def fills_sum_to_the_filled_amount(self) -> None:
        fills_by_id = {f.trade_id: f for f in self.exchange.fills}
        assert self.order.filled_lots == sum(fills_by_id[t].amount_lots for t in self.seen_fills)
        assert self.order.fill_ids == frozenset(self.seen_fills)

    @invariant()
    def the_state_is_one_the_exchange_can_produce(self) -> None:
        order = self.order
        assert 0 <= order.filled_lots <= order.reported_filled_lots
        assert order.reported_filled_lots <= self.exchange.filled_lots
        if order.status is not None and order.status.is_active:
            assert order.filled_lots < order.amount_lots  # an amend below filled cancels
        if order.state is OrderState.PENDING_AMEND:
            assert order.pending_amount_lots is not None
        if order.state is OrderState.TERMINAL and order.status is not None:
            assert not order.status.is_active or order.rejected_code == ORDER_NOT_FOUND
        if order.status is not None and order.status.is_active:
            assert order.state is not OrderState.PENDING_INSERT

    @invariant()
    def quiescent_view_equals_the_exchange(self) -> None:
        if not self.quiescent:
            return
        ex = self.exchange
        assert ex.status is not None
        assert self.order.status is ex.status
        assert self.order.filled_lots == ex.filled_lots
        assert self.order.unaccounted_fill_lots == 0
        assert self.order.is_terminal == (not ex.status.is_active)
        if ex.status.is_active:
            assert self.order.state is OrderState.OPEN
            assert (self.order.price_ticks, self.order.amount_lots) == (
                ex.price_ticks,
                ex.amount_lots,
            )
            assert self.order.remaining_lots == ex.amount_lots - ex.filled_lots
        else:
            assert self.order.remaining_lots == 0


TestOrderLifecycle = OrderLifecycle.TestCase

CID = ClientOrderId(7)


def test_a_rejected_insert_never_existed_even_with_a_cancel_in_flight() -> None:
    order = Order.new_insert(CID, "BTC-PERPETUAL", Side.SELL, 100, 5, 0).request_cancel()
    order = order.reject(RequestKind.INSERT, 15)
    assert order.state is OrderState.TERMINAL
    assert order.status is None
    assert order.remaining_lots == 0
    assert order.reject(RequestKind.CANCEL, ORDER_NOT_FOUND) == order


def test_a_late_amend_result_does_not_undo_a_newer_notification() -> None:
    order = Order.new_insert(CID, "BTC-PERPETUAL", Side.SELL, 100, 5, 0)
    order, _ = order.apply(OrderUpdate(CID, OID, OrderStatus.OPEN, ChangeReason.INSERT, 100, 5, 0))
    order = order.request_amend(101, 5, now_ns=1)
    amended = OrderUpdate(CID, OID, OrderStatus.OPEN, ChangeReason.AMEND, 101, 5, 0)
    order, _ = order.apply(amended)
    order = order.request_amend(102, 4, now_ns=2)
    order, _ = order.apply(OrderUpdate(CID, OID, OrderStatus.OPEN, ChangeReason.AMEND, 102, 4, 0))
    order, _ = order.apply_result(RequestKind.AMEND, amended)  # the first amend's late result
    assert (order.price_ticks, order.amount_lots, order.state) == (102, 4, OrderState.OPEN)


def test_inconsistent_reports_are_refused() -> None:
    with pytest.raises(IllegalTransition, match="not a state the exchange reports"):
        OrderUpdate(CID, OID, OrderStatus.OPEN, ChangeReason.FILL, 100, 10, 3)
    with pytest.raises(IllegalTransition, match="not a state the exchange reports"):
        OrderUpdate(CID, OID, OrderStatus.FILLED, ChangeReason.FILL, 100, 10, 9)
    with pytest.raises(IllegalTransition, match="amend in pending_insert"):
        Order.new_insert(CID, "BTC-PERPETUAL", Side.SELL, 100, 5, 0).request_amend(101, 5, 0)
