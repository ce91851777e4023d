"""The reconciler driving a model exchange through requotes, fills (full and partial), rejects,
late acknowledgements, cancel/fill races and reconnects.

The exchange processes our requests in the order sent; each processed request yields an RPC
result and a `session.orders` notification, two FIFO streams the bot reads in any interleaving
(so acknowledgements arrive late and out of step). After every step: the exchange's exposure
never exceeds the limit, the bot's worst-case view never understates it, and once everything is
delivered the bot's orders and position equal the exchange's.
"""

from __future__ import annotations

from attrs import define, field
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.reconcile.strategies import NAME, instrument
from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.enums import ChangeReason, DeleteReason, Liquidity, OrderStatus, Side
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId
from thalex_trio.domain.order import ORDER_NOT_FOUND, Order, OrderState, OrderUpdate, RequestKind
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.reconcile.exposure import exposure
from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams
from thalex_trio.reconcile.reconciler import reconcile

LIMIT_LOTS = 24
THROTTLED, NO_MARGIN = 4, 24


@define
class ExchangeOrder:
    """The exchange's truth about one order."""

    cid: ClientOrderId
    side: Side
    price_ticks: int
    amount_lots: int
    status: OrderStatus = OrderStatus.OPEN
    fills: list[Fill] = field(factory=list)

    @property
    def filled_lots(self) -> int:
        return sum(f.amount_lots for f in self.fills)

    def report(self, reason: ChangeReason, new: tuple[Fill, ...] = ()) -> OrderUpdate:
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
            self.filled_lots,
            new,
            delete,
        )


Request = tuple[RequestKind, ClientOrderId, int, int]
Result = tuple[RequestKind, ClientOrderId, OrderUpdate | int]


class ReconcilerAgainstExchange(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.instrument = instrument(1)
        self.params = ReconcileParams(amend_threshold_ticks=1)
        self.limits = ReconcileLimits(max_exposure_lots=LIMIT_LOTS, max_order_lots=8)
        self.bot: dict[ClientOrderId, Order] = {}
        self.position_lots = 0
        self.next_id = ClientOrderId(1)
        self.exchange: dict[ClientOrderId, ExchangeOrder] = {}
        self.exchange_position_lots = 0
        self.requests: list[Request] = []
        self.results: list[Result] = []
        self.notifications: list[OrderUpdate] = []
        self.trades = 0

    @property
    def quiescent(self) -> bool:
        return not (self.requests or self.results or self.notifications)

    # -- the bot -----------------------------------------------------------------------------

    @rule(
        mid=st.integers(95, 105),
        levels=st.integers(0, 3),
        lots=st.integers(1, 6),
        spread=st.integers(1, 3),
    )
    def requote(self, mid: int, levels: int, lots: int, spread: int) -> None:
        ladder = QuoteLadder(
            NAME,
            tuple(Quote(Side.BUY, mid - spread - 2 * k, lots) for k in range(levels)),
            tuple(Quote(Side.SELL, mid + spread + 2 * k, lots + k) for k in range(levels)),
        )
        plan = reconcile(
            ladder,
            tuple(self.bot.values()),
            position_lots=self.position_lots,
            instrument=self.instrument,
            params=self.params,
            limits=self.limits,
            next_client_order_id=self.next_id,
        )
        self.next_id = plan.next_client_order_id
        for action in plan.actions:
            match action:
                case Insert():
                    self.bot[action.client_order_id] = Order.new_insert(
                        action.client_order_id,
                        NAME,
                        action.side,
                        action.price_ticks,
                        action.amount_lots,
                        placed_ns=0,
                    )
                    self.requests.append(
                        (
                            RequestKind.INSERT,
                            action.client_order_id,
                            action.price_ticks,
                            action.amount_lots,
                        )
                    )
                case Amend():
                    order = self.bot[action.client_order_id]
                    assert order.state is OrderState.OPEN
                    self.bot[order.client_order_id] = order.request_amend(
                        action.price_ticks, action.amount_lots, now_ns=0
                    )
                    self.requests.append(
                        (
                            RequestKind.AMEND,
                            order.client_order_id,
                            action.price_ticks,
                            action.amount_lots,
                        )
                    )
                case Cancel():
                    order = self.bot[action.client_order_id]
                    assert order.state is OrderState.OPEN
                    self.bot[order.client_order_id] = order.request_cancel()
                    self.requests.append((RequestKind.CANCEL, order.client_order_id, 0, 0))
                case MassQuote():
                    raise AssertionError("the orders style never mass-quotes")

    @precondition(lambda self: bool(self.results))
    @rule()
    def bot_reads_next_rpc_result(self) -> None:
        kind, cid, outcome = self.results.pop(0)
        order = self.bot[cid]
        if isinstance(outcome, int):
            self.bot[cid] = order.reject(kind, outcome)
        else:
            self.count(*order.apply_result(kind, outcome))

    @precondition(lambda self: bool(self.notifications))
    @rule()
    def bot_reads_next_notification(self) -> None:
        update = self.notifications.pop(0)
        self.count(*self.bot[update.client_order_id].apply(update))

    def count(self, order: Order, new: tuple[Fill, ...]) -> None:
        self.bot[order.client_order_id] = order
        self.position_lots += sum(f.signed_lots for f in new)

    @rule()
    def forget_finished_orders(self) -> None:
        for cid, order in list(self.bot.items()):
            finished = order.status is not None and not order.status.is_active
            reports_due = (
                any(r[1] == cid for r in self.requests)
                or any(r[1] == cid for r in self.results)
                or any(n.client_order_id == cid for n in self.notifications)
            )
            accounted = order.unaccounted_fill_lots == 0
            if order.is_terminal and finished and accounted and not reports_due:
                del self.bot[cid]

    @rule()
    def reconnect(self) -> None:
        """The connection drops: unsent requests and undelivered reports are lost, cancel on
        disconnect removes our orders, and the bot restarts from a snapshot (no open orders)
        and the portfolio's position."""
        for ex in self.exchange.values():
            if ex.status.is_active:
                ex.status = (
                    OrderStatus.CANCELLED_PARTIALLY_FILLED if ex.fills else OrderStatus.CANCELLED
                )
        self.requests.clear()
        self.results.clear()
        self.notifications.clear()
        self.bot.clear()
        self.position_lots = self.exchange_position_lots

    # -- the exchange ------------------------------------------------------------------------

    @precondition(lambda self: bool(self.requests))
    @rule(error=st.sampled_from([None, None, None, None, THROTTLED, NO_MARGIN]))
    def exchange_processes_next_request(self, error: int | None) -> None:
        kind, cid, price, amount = self.requests.pop(0)
        ex = self.exchange.get(cid)
        if error is not None and (kind is RequestKind.INSERT or error == THROTTLED):
            self.results.append((kind, cid, error))
            return
        if kind is RequestKind.INSERT:
            ex = self.exchange[cid] = ExchangeOrder(cid, self.bot_side(cid), price, amount)
            self.publish(kind, ex.report(ChangeReason.INSERT))
        elif ex is None or not ex.status.is_active:
            self.results.append((kind, cid, ORDER_NOT_FOUND))
        elif kind is RequestKind.CANCEL:
            ex.status = (
                OrderStatus.CANCELLED_PARTIALLY_FILLED if ex.fills else OrderStatus.CANCELLED
            )
            self.publish(kind, ex.report(ChangeReason.CANCEL))
        else:
            ex.price_ticks, ex.amount_lots = price, amount
            if amount <= ex.filled_lots:  # volume-safe: at or below the filled amount cancels
                ex.status = OrderStatus.CANCELLED_PARTIALLY_FILLED
            self.publish(kind, ex.report(ChangeReason.AMEND))

    def bot_side(self, cid: ClientOrderId) -> Side:
        return self.bot[cid].side

    def publish(self, kind: RequestKind, update: OrderUpdate) -> None:
        self.results.append((kind, update.client_order_id, update))
        self.notifications.append(update)

    @precondition(lambda self: any(ex.status.is_active for ex in self.exchange.values()))
    @rule(data=st.data())
    def market_trades_through_an_order(self, data: st.DataObject) -> None:
        active = sorted(
            (ex for ex in self.exchange.values() if ex.status.is_active), key=lambda ex: ex.cid
        )
        ex = data.draw(st.sampled_from(active))
        remaining = ex.amount_lots - ex.filled_lots
        lots = data.draw(st.integers(1, remaining), label="fill lots")
        self.trades += 1
        fill = Fill(
            TradeId(f"T{self.trades:031d}"),
            NAME,
            ex.side,
            ex.price_ticks,
            lots,
            Liquidity.MAKER,
            0.0,
            self.trades,
            ex.cid,
        )
        ex.fills.append(fill)
        ex.status = OrderStatus.FILLED if lots == remaining else OrderStatus.PARTIALLY_FILLED
        self.exchange_position_lots += fill.signed_lots
        self.notifications.append(ex.report(ChangeReason.FILL, (fill,)))

    # -- invariants --------------------------------------------------------------------------

    def exchange_exposure(self) -> tuple[int, int]:
        long_lots, short_lots = self.exchange_position_lots, -self.exchange_position_lots
        for ex in self.exchange.values():
            if ex.status.is_active:
                remaining = ex.amount_lots - ex.filled_lots
                if ex.side is Side.BUY:
                    long_lots += remaining
                else:
                    short_lots += remaining
        return long_lots, short_lots

    @invariant()
    def the_exchange_never_holds_more_than_the_limit(self) -> None:
        long_lots, short_lots = self.exchange_exposure()
        assert long_lots <= LIMIT_LOTS
        assert short_lots <= LIMIT_LOTS

    @invariant()
    def the_bots_worst_case_never_understates_the_exchange(self) -> None:
        mine = exposure(self.position_lots, self.bot.values())
        long_lots, short_lots = self.exchange_exposure()
        assert mine.long_lots >= long_lots, (mine, long_lots)
        assert mine.short_lots >= short_lots, (mine, short_lots)

    @invariant()
    def once_everything_is_delivered_the_bot_agrees_with_the_exchange(self) -> None:
        if not self.quiescent:
            return
        assert self.position_lots == self.exchange_position_lots
        live = {cid: o for cid, o in self.bot.items() if not o.is_terminal}
        active = {cid: ex for cid, ex in self.exchange.items() if ex.status.is_active}
        assert live.keys() == active.keys()
        for cid, ex in active.items():
            order = live[cid]
            assert order.state is OrderState.OPEN
            assert (order.price_ticks, order.amount_lots, order.filled_lots) == (
                ex.price_ticks,
                ex.amount_lots,
                ex.filled_lots,
            )
            assert order.unaccounted_fill_lots == 0


TestReconcilerAgainstExchange = ReconcilerAgainstExchange.TestCase
