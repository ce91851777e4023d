"""Wire types of our orders and trades: `OrderStatus`, its fills, account trades, quote results."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    InsertReason,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_trio.thalex.wire_enums import TradeType


@frozen
class ThalexOrderFill:
    """`OrderFill`: one execution reported inside an order update."""

    trade_id: str
    price: float
    amount: float
    maker_taker: Liquidity
    leg_index: int
    time: float | None = None


@frozen
class ThalexOrderLeg:
    """A leg of a combination order."""

    instrument_name: str
    quantity: float
    filled_amount: float
    remaining_amount: float


@frozen
class ThalexOrderStatus:
    """`OrderStatus`: RPC result of insert/amend/cancel and item of the order channels.

    `create_time` and `persistent` are required by the spec but missing from its own examples,
    so they are optional here; `fills` are the new fills only, except for `existing`.
    """

    order_id: str
    order_type: OrderType
    time_in_force: TimeInForce
    direction: Side
    amount: float
    filled_amount: float
    remaining_amount: float
    status: OrderStatus
    fills: tuple[ThalexOrderFill, ...]
    change_reason: ChangeReason
    insert_reason: InsertReason
    instrument_name: str | None = None
    legs: tuple[ThalexOrderLeg, ...] | None = None
    price: float | None = None
    label: str | None = None
    client_order_id: int | None = None
    delete_reason: DeleteReason | None = None
    conditional_order_id: str | None = None
    bot_id: str | None = None
    create_time: float | None = None
    close_time: float | None = None
    reduce_only: bool | None = None
    persistent: bool | None = None


@frozen
class ThalexOrdersPayload:
    """`session.orders`, `account.orders`, `account.persistent_orders` payload (JSON array)."""

    items: tuple[ThalexOrderStatus, ...]


@frozen
class ThalexTrade:
    """`Trade`: an account trade (`account.trade_history`, `private/trade_history`).

    Every field is optional in the spec; the ones a fill needs are checked on conversion.
    """

    trade_id: str | None = None
    order_id: str | None = None
    instrument_name: str | None = None
    direction: Side | None = None
    price: float | None = None
    amount: float | None = None
    time: float | None = None
    trade_type: TradeType | None = None
    label: str | None = None
    position_after: float | None = None
    session_realised_after: float | None = None
    position_pnl: float | None = None
    perpetual_funding_pnl: float | None = None
    fee: float | None = None
    index: float | None = None
    fee_rate: float | None = None
    fee_basis: float | None = None
    funding_mark: float | None = None
    liquidation_fee: float | None = None
    client_order_id: int | None = None
    maker_taker: Liquidity | None = None
    bot_id: str | None = None
    leg_index: int | None = None


@frozen
class ThalexTradesPayload:
    """`account.trade_history` payload (JSON array)."""

    items: tuple[ThalexTrade, ...]


@frozen
class ThalexTradeHistory:
    """`private/trade_history` result: a page of trades and the bookmark of the next page."""

    trades: tuple[ThalexTrade, ...] = ()
    bookmark: str | None = None


@frozen
class ThalexMassQuoteError:
    """One failed quote side in a mass-quote result."""

    code: int | None = None
    message: str | None = None
    side: str | None = None
    price: float | None = None


@frozen
class ThalexMassQuoteResult:
    """`private/mass_quote` result (`DoubleSidedQuoteResult`)."""

    n_success: int
    n_fail: int
    errors: tuple[ThalexMassQuoteError, ...]
