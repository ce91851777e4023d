"""The engine's record of one order, mutable inside the engine and reported as frozen
`OrderReport` values."""

from __future__ import annotations

from attrs import define, field

from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId
from thalex_trio.domain.order import OrderUpdate
from thalex_trio.sim.engine.params import CancelledRemaining
from thalex_trio.sim.engine.reports import OrderReport, SessionId


@define
class SimOrder:
    """An order as the exchange holds it. `slot` is its kernel slot while it rests, else -1."""

    seq: int
    order_id: ExchangeOrderId
    session_id: SessionId
    instrument_name: str
    side: Side
    price_ticks: int
    amount_lots: int
    order_type: OrderType
    time_in_force: TimeInForce
    persistent: bool
    create_time_ns: int
    client_order_id: ClientOrderId | None = None
    label: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    mass_quote: bool = False
    product: str = ""
    filled_lots: int = 0
    slot: int = -1
    delete_reason: DeleteReason | None = None
    close_time_ns: int | None = None
    fills: list[Fill] = field(factory=list)

    @property
    def active(self) -> bool:
        """True while the order can trade."""
        return self.delete_reason is None

    @property
    def open_lots(self) -> int:
        """Lots still able to trade (0 once inactive)."""
        return self.amount_lots - self.filled_lots if self.active else 0

    def status(self) -> OrderStatus:
        """The exchange status implied by fills and deletion."""
        if self.active:
            return OrderStatus.PARTIALLY_FILLED if self.filled_lots else OrderStatus.OPEN
        if self.delete_reason is DeleteReason.FILLED:
            return OrderStatus.FILLED
        if self.filled_lots:
            return OrderStatus.CANCELLED_PARTIALLY_FILLED
        return OrderStatus.CANCELLED

    def report(
        self,
        change: ChangeReason,
        new_fills: tuple[Fill, ...],
        now_ns: int,
        convention: CancelledRemaining,
    ) -> OrderReport:
        """This order's `OrderStatus` for one engine event."""
        remaining = self.amount_lots - self.filled_lots
        if not self.active and (
            convention is CancelledRemaining.ZERO or self.delete_reason is DeleteReason.FILLED
        ):
            remaining = 0
        update = OrderUpdate(
            client_order_id=(
                self.client_order_id
                if self.client_order_id is not None
                else ClientOrderId(self.seq)
            ),
            exchange_order_id=self.order_id,
            status=self.status(),
            change_reason=change,
            price_ticks=None if self.order_type is OrderType.MARKET else self.price_ticks,
            amount_lots=self.amount_lots,
            filled_lots=self.filled_lots,
            fills=new_fills,
            delete_reason=self.delete_reason,
        )
        return OrderReport(
            session_id=self.session_id,
            update=update,
            instrument_name=self.instrument_name,
            side=self.side,
            order_type=self.order_type,
            time_in_force=self.time_in_force,
            remaining_lots=max(remaining, 0),
            persistent=self.persistent,
            reduce_only=self.reduce_only,
            is_mass_quote=self.mass_quote,
            client_order_id=self.client_order_id,
            label=self.label,
            create_time_ns=self.create_time_ns,
            close_time_ns=self.close_time_ns,
            time_ns=now_ns,
        )
