"""Our view of one order, and the state machine that keeps it to transitions the exchange can
produce.

Two sources change an order: our own requests (insert, amend, cancel, each in flight until its RPC
result) and the exchange's order updates (RPC results and `session.orders` notifications, which
may arrive in either order). The exchange is authoritative on status and fills; we add the
in-flight states. Fills are deduplicated by trade id, so the same fill seen in an RPC result and
in a notification counts once, and `filled_lots` always equals the sum of the fills applied.
"""

from __future__ import annotations

import enum
from typing import assert_never

from attrs import evolve, field, frozen

from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    OrderStatus,
    Side,
    TimeInForce,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId


class OrderState(enum.Enum):
    """Where an order is in its life, from our side of the wire."""

    PENDING_INSERT = "pending_insert"
    OPEN = "open"
    PENDING_AMEND = "pending_amend"
    PENDING_CANCEL = "pending_cancel"
    TERMINAL = "terminal"

    @property
    def in_flight(self) -> bool:
        """True while one of our requests on this order has no result yet."""
        return self in (
            OrderState.PENDING_INSERT,
            OrderState.PENDING_AMEND,
            OrderState.PENDING_CANCEL,
        )


class RequestKind(enum.Enum):
    """Which of our requests an RPC result answers."""

    INSERT = "insert"
    AMEND = "amend"
    CANCEL = "cancel"


class IllegalTransition(ValueError):
    """A request or update that no exchange sequence could produce for this order."""


_FINAL = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.CANCELLED_PARTIALLY_FILLED)


@frozen
class OrderUpdate:
    """One exchange report on an order, in domain units, validated for internal consistency.

    `filled_lots` is the exchange's cumulative filled amount; `fills` are the fills new in this
    report (all of them for a `existing` snapshot).
    """

    client_order_id: ClientOrderId
    exchange_order_id: ExchangeOrderId
    status: OrderStatus
    change_reason: ChangeReason
    price_ticks: int | None
    amount_lots: int
    filled_lots: int
    fills: tuple[Fill, ...] = ()
    delete_reason: DeleteReason | None = None

    def __attrs_post_init__(self) -> None:
        filled, amount, status = self.filled_lots, self.amount_lots, self.status
        consistent = {
            OrderStatus.OPEN: filled == 0,
            OrderStatus.PARTIALLY_FILLED: 0 < filled < amount,
            OrderStatus.FILLED: filled == amount > 0,
            OrderStatus.CANCELLED: filled == 0,
            OrderStatus.CANCELLED_PARTIALLY_FILLED: filled > 0,
        }[status]
        if not consistent or filled < 0 or amount < 0:
            raise IllegalTransition(
                f"order {self.client_order_id}: status {status.value} with filled {filled} "
                f"of amount {amount} is not a state the exchange reports"
            )
        if sum(f.amount_lots for f in self.fills) > filled:
            raise IllegalTransition(
                f"order {self.client_order_id}: fills exceed the filled amount {filled}"
            )


@frozen
class Order:
    """Our view of one order.

    `reported_filled_lots` is the highest cumulative fill the exchange reported; when it exceeds
    `filled_lots` a fill was reported without its details (a dropped notification), which the
    runtime treats as a reconciliation problem rather than inventing the fill.
    """

    client_order_id: ClientOrderId
    instrument_name: str
    side: Side
    price_ticks: int
    amount_lots: int
    state: OrderState
    placed_ns: int
    status: OrderStatus | None = None
    filled_lots: int = 0
    reported_filled_lots: int = 0
    exchange_order_id: ExchangeOrderId | None = None
    delete_reason: DeleteReason | None = None
    pending_price_ticks: int | None = None
    pending_amount_lots: int | None = None
    post_only: bool = True
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    rejected_code: int | None = None
    fill_ids: frozenset[TradeId] = field(factory=frozenset)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def new_insert(
        cls,
        client_order_id: ClientOrderId,
        instrument_name: str,
        side: Side,
        price_ticks: int,
        amount_lots: int,
        placed_ns: int,
        *,
        post_only: bool = True,
        reduce_only: bool = False,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> Order:
        """An order whose insert request has just been sent."""
        if amount_lots <= 0:
            raise IllegalTransition(f"order {client_order_id}: amount must be > 0 lots")
        return cls(
            client_order_id=client_order_id,
            instrument_name=instrument_name,
            side=side,
            price_ticks=price_ticks,
            amount_lots=amount_lots,
            state=OrderState.PENDING_INSERT,
            placed_ns=placed_ns,
            post_only=post_only,
            reduce_only=reduce_only,
            time_in_force=time_in_force,
        )

    # -- derived -----------------------------------------------------------------------------

    @property
    def is_terminal(self) -> bool:
        """True once the order can no longer trade or be changed."""
        return self.state is OrderState.TERMINAL

    @property
    def remaining_lots(self) -> int:
        """Lots that can still trade (zero once terminal)."""
        if self.is_terminal:
            return 0
        return max(self.amount_lots - max(self.filled_lots, self.reported_filled_lots), 0)

    @property
    def worst_case_remaining_lots(self) -> int:
        """Remaining lots if an in-flight amend to a larger size succeeds (exposure checks).

        A cancel sent behind an amend does not retire the amend: the exchange applies the
        amend first, and a fill can land at the new size before the cancel does.
        """
        remaining = self.remaining_lots
        if self.pending_amount_lots is not None and not self.is_terminal:
            filled = max(self.filled_lots, self.reported_filled_lots)
            remaining = max(remaining, self.pending_amount_lots - filled)
        return remaining

    @property
    def awaiting_final_report(self) -> bool:
        """True for an order our amend or cancel found gone (code 1) before its final update.

        It filled or was cancelled at the exchange; the report saying which (possibly with a
        fill) is still on its way, so it must be kept until then.
        """
        return (
            self.state is OrderState.TERMINAL
            and self.rejected_code == ORDER_NOT_FOUND
            and self.status is not None
            and self.status.is_active
        )

    @property
    def unaccounted_fill_lots(self) -> int:
        """Lots the exchange says filled that we hold no fill record for."""
        return self.reported_filled_lots - self.filled_lots

    # -- our requests ------------------------------------------------------------------------

    def request_amend(self, price_ticks: int, amount_lots: int, now_ns: int) -> Order:
        """We sent `private/amend`; only an acknowledged, idle order may be amended."""
        if self.state is not OrderState.OPEN:
            raise IllegalTransition(f"order {self.client_order_id}: amend in {self.state.value}")
        if amount_lots <= 0:
            raise IllegalTransition(f"order {self.client_order_id}: amend to {amount_lots} lots")
        return evolve(
            self,
            state=OrderState.PENDING_AMEND,
            pending_price_ticks=price_ticks,
            pending_amount_lots=amount_lots,
            placed_ns=now_ns,
        )

    def request_cancel(self) -> Order:
        """We sent `private/cancel` (allowed while the insert or an amend is still in flight)."""
        if self.state in (OrderState.PENDING_CANCEL, OrderState.TERMINAL):
            raise IllegalTransition(f"order {self.client_order_id}: cancel in {self.state.value}")
        return evolve(self, state=OrderState.PENDING_CANCEL)

    def reject(self, request: RequestKind, code: int) -> Order:
        """Our in-flight `request` on this order failed with exchange error `code`.

        A failed insert means the order never existed, even if a cancel was sent after it. A
        failed amend or cancel leaves the order as it was, except with code 1 (order not found):
        it already filled or was cancelled, and its final update is on its way. A rejection that
        arrives after the order is terminal changes nothing.
        """
        if self.is_terminal:
            return self
        match request:
            case RequestKind.INSERT:
                return evolve(
                    self,
                    state=OrderState.TERMINAL,
                    rejected_code=code,
                    pending_price_ticks=None,
                    pending_amount_lots=None,
                )
            case RequestKind.AMEND | RequestKind.CANCEL:
                if code == ORDER_NOT_FOUND:
                    state = OrderState.TERMINAL
                elif request is RequestKind.AMEND and self.state is OrderState.PENDING_CANCEL:
                    state = OrderState.PENDING_CANCEL  # the cancel sent after it is still pending
                else:
                    state = OrderState.OPEN
                return evolve(
                    self,
                    state=state,
                    pending_price_ticks=None,
                    pending_amount_lots=None,
                    rejected_code=code,
                )
            case _:
                assert_never(request)

    # -- exchange reports --------------------------------------------------------------------

    def apply(self, update: OrderUpdate) -> tuple[Order, tuple[Fill, ...]]:
        """This order after an order-channel notification, and the fills in it new to us.

        Notifications of one order arrive in the exchange's order, so each is the newest
        report of its event. One older than what an RPC result already told us (lower
        cumulative fill, or an active status after a final one) contributes only unseen fills.
        """
        return self._merge(update, authoritative=True)

    def apply_result(
        self, request: RequestKind, update: OrderUpdate
    ) -> tuple[Order, tuple[Fill, ...]]:
        """This order after the successful RPC result of our `request`, and its new fills.

        A result may arrive after newer notifications. It is the newest word on the order only
        while that request is still pending here (its notification has not arrived yet);
        otherwise it contributes its unseen fills and, if final, the final status.
        """
        pending = {
            RequestKind.INSERT: OrderState.PENDING_INSERT,
            RequestKind.AMEND: OrderState.PENDING_AMEND,
            RequestKind.CANCEL: OrderState.PENDING_CANCEL,
        }[request]
        authoritative = self.state is pending or update.status in _FINAL
        return self._merge(update, authoritative=authoritative)

    def _merge(self, update: OrderUpdate, *, authoritative: bool) -> tuple[Order, tuple[Fill, ...]]:
        if update.client_order_id != self.client_order_id:
            raise IllegalTransition(
                f"update for {update.client_order_id} applied to {self.client_order_id}"
            )
        new_fills = tuple(f for f in update.fills if f.trade_id not in self.fill_ids)
        filled = self.filled_lots + sum(f.amount_lots for f in new_fills)
        # The cases below settle the order's other fields, and one `evolve` builds the result
        # (building an Order is most of the cost of applying an update).
        state, status, delete_reason = self.state, self.status, self.delete_reason
        amount_lots, price_ticks = self.amount_lots, self.price_ticks
        pending_price, pending_amount = self.pending_price_ticks, self.pending_amount_lots
        stale = update.filled_lots < self.reported_filled_lots or (
            self.status in _FINAL and update.status not in _FINAL
        )
        if stale or not authoritative:
            pass  # only the fills count
        elif self.state is OrderState.TERMINAL and update.status not in _FINAL:
            # Active report after we learnt the order is gone (code 1): keep it gone.
            status = update.status
        else:
            status, amount_lots = update.status, update.amount_lots
            if update.price_ticks is not None:
                price_ticks = update.price_ticks
            if update.status in _FINAL:
                state, delete_reason = OrderState.TERMINAL, update.delete_reason
                pending_price, pending_amount = None, None
            elif state is OrderState.PENDING_INSERT:
                state = OrderState.OPEN
            elif update.change_reason is ChangeReason.AMEND:
                # Our amend took effect (possibly with a cancel sent behind it still pending).
                pending_price, pending_amount = None, None
                if state is OrderState.PENDING_AMEND:
                    state = OrderState.OPEN
        order = evolve(
            self,
            filled_lots=filled,
            reported_filled_lots=max(self.reported_filled_lots, update.filled_lots, filled),
            fill_ids=self.fill_ids | {f.trade_id for f in new_fills}
            if new_fills
            else self.fill_ids,
            exchange_order_id=self.exchange_order_id or update.exchange_order_id,
            state=state,
            status=status,
            delete_reason=delete_reason,
            amount_lots=amount_lots,
            price_ticks=price_ticks,
            pending_price_ticks=pending_price,
            pending_amount_lots=pending_amount,
        )
        return order, new_fills


ORDER_NOT_FOUND = 1
"""Thalex error code for an amend or cancel of an order that is filled, cancelled or unknown."""
