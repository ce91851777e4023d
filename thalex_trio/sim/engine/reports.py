"""What the engine reports back: request results, order updates, MM-protection and position
changes, each stamped with the time the session receives it (`deliver_ns`)."""

from __future__ import annotations

import enum
from typing import NewType

from attrs import frozen

from thalex_trio.domain.enums import OrderType, Side, TimeInForce
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.order import OrderUpdate
from thalex_trio.domain.position import Position

SessionId = NewType("SessionId", int)
"""One client session (one WebSocket connection on the server)."""

RequestId = NewType("RequestId", int)
"""The engine's handle for one submitted request, echoed in its `RequestResult`."""


class ErrorCode(enum.IntEnum):
    """Exchange error codes the engine produces (API.md §10)."""

    ORDER_NOT_FOUND = 1
    DUPLICATE_ORDER_ID = 2
    UNKNOWN_INSTRUMENT = 5
    INVALID_REQUEST = 6
    INVALID_PRICE = 13
    INVALID_AMOUNT = 14
    PRICE_NOT_ALIGNED = 15
    UNKNOWN_PRODUCT = 17
    PROT_NOT_SET = 23
    INVALID_TIME_IN_FORCE = 25
    PRICE_COLLAR_BREACH = 43
    QUOTE_EXCEEDS_PROT_GROUP_SIZE = 44
    PERSISTENT_SESSION = 52


REDUCE_ONLY_REJECTED = ErrorCode.INVALID_REQUEST
"""The reduce-only rejection code is undocumented (API.md §14); the engine uses 6."""


@frozen
class Rejection:
    """A request the exchange refused, as an RPC error."""

    code: ErrorCode
    message: str


@frozen
class OrderReport:
    """One `OrderStatus` (API.md §6.1) in domain units.

    `update` carries status, change and delete reasons, amount, cumulative fill and the new
    fills. `update.client_order_id` is the client's id, or the engine's order sequence number
    when the client supplied none (mass quotes); `client_order_id` here is the supplied one,
    None when omitted, which is what the wire shows. `remaining_lots` follows
    `EngineParams.cancelled_remaining` for inactive orders. Times are engine time in ns.
    """

    session_id: SessionId
    update: OrderUpdate
    instrument_name: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    remaining_lots: int
    persistent: bool
    reduce_only: bool
    is_mass_quote: bool
    client_order_id: ClientOrderId | None
    label: str | None
    create_time_ns: int
    close_time_ns: int | None
    time_ns: int


@frozen
class MassQuoteResult:
    """`DoubleSidedQuoteResult`: sides replaced or deleted, sides failed, and why."""

    n_success: int
    n_fail: int
    errors: tuple[QuoteError, ...]


@frozen
class QuoteError:
    """One failed mass-quote side; `price_ticks` names the offending level when known."""

    code: ErrorCode
    message: str
    instrument_name: str
    side: Side
    price_ticks: int | None = None


RequestOutcome = OrderReport | MassQuoteResult | int | None
"""An insert/amend/cancel gives the order's report, cancel_all the count deleted, a mass quote
its result, and cancel_session / set_mm_protection / cancel_mass_quote None."""


@frozen
class RequestResult:
    """The RPC answer to one request; exactly one of `outcome` and `error` is meaningful."""

    request_id: RequestId
    session_id: SessionId
    deliver_ns: int
    effective_ns: int
    outcome: RequestOutcome
    error: Rejection | None = None


@frozen
class OrderNotice:
    """An order update for the order channels (`session.orders`, `account.orders`, ...)."""

    deliver_ns: int
    report: OrderReport


class MMProtectionReason(enum.Enum):
    """`session.mm_protection` reasons."""

    REFILL = "refill"
    EXECUTIONS = "executions"
    CLIENT_CANCEL = "client_cancel"
    SESSION_END = "session_end"


@frozen
class MMProtectionNotice:
    """A protection group's remaining tradable amount changed (may go below zero)."""

    deliver_ns: int
    session_id: SessionId
    product: str
    remaining_amount: float
    reason: MMProtectionReason


@frozen
class PositionNotice:
    """The account's position in one instrument after a fill or a funding settlement."""

    deliver_ns: int
    position: Position
    funding_paid: float = 0.0


Report = RequestResult | OrderNotice | MMProtectionNotice | PositionNotice
"""Closed union of engine reports, in delivery order from `drain_reports`."""
