"""The persisted event vocabulary: what the runtime records about a run, as pure values.

Every event carries the run id and our local timestamp in ns (`local_ns`, from the injected
clock); events about exchange data also carry the exchange's timestamp. Each event class says
whether it is *execution* (orders, fills, errors, positions, risk: never dropped) or *market*
data (books, tickers, trades, index, quote decisions: may be sampled under back pressure).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, ClassVar, NewType

from attrs import frozen

from thalex_trio.domain.enums import ChangeReason, DeleteReason, OrderStatus, Side
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId
from thalex_trio.domain.market import IndexPrice, Ticker, TopOfBook, Trade
from thalex_trio.domain.order import Order, OrderState
from thalex_trio.domain.quote import QuoteLadder

if TYPE_CHECKING:
    from thalex_trio.domain.position import PnL, Position

RunId = NewType("RunId", str)
"""Identifies one process run of the bot (a uuid string by convention)."""


class EventClass(enum.Enum):
    """How the store treats an event under back pressure or a database outage."""

    EXECUTION = "execution"
    """Never dropped: journaled locally while the database is away, replayed exactly once."""
    MARKET = "market"
    """May be sampled when the writer falls behind; what is skipped is counted."""


# -- run lifecycle -----------------------------------------------------------------------------


@frozen
class RunStarted:
    """A run began. `config_json` is the configuration snapshot, serialised by the caller."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    mode: str
    version: str
    config_json: str = "{}"
    network: str = ""


@frozen
class RunStopped:
    """A run ended, with why (`exit_reason`) and the process exit code it led to."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    exit_reason: str
    exit_code: int


@frozen
class InstrumentInfo:
    """The grids of an instrument traded in the run, so reports can convert ticks to money."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    instrument_name: str
    tick_size: float
    volume_tick_size: float


# -- market data -------------------------------------------------------------------------------


@frozen
class TopOfBookSnapshot:
    """Best bid and ask as we saw them; the exchange time is `book.time_ns`."""

    KIND: ClassVar[EventClass] = EventClass.MARKET
    run_id: RunId
    local_ns: int
    book: TopOfBook


@frozen
class TickerSnapshot:
    """A ticker update; the exchange time is `ticker.time_ns`."""

    KIND: ClassVar[EventClass] = EventClass.MARKET
    run_id: RunId
    local_ns: int
    ticker: Ticker


@frozen
class TradePrint:
    """A public trade; the exchange time is `trade.time_ns`."""

    KIND: ClassVar[EventClass] = EventClass.MARKET
    run_id: RunId
    local_ns: int
    trade: Trade


@frozen
class IndexPrint:
    """An index price; the exchange time is `index.time_ns`."""

    KIND: ClassVar[EventClass] = EventClass.MARKET
    run_id: RunId
    local_ns: int
    index: IndexPrice


@frozen
class QuoteDecision:
    """One decision of the quote loop: the desired ladder and the model state behind it.

    Recorded sampled (market class): the ladder is reproducible from the market data, so a
    skipped decision loses detail, not accounting.
    """

    KIND: ClassVar[EventClass] = EventClass.MARKET
    run_id: RunId
    local_ns: int
    ladder: QuoteLadder
    fair_ticks: float
    reservation_ticks: float
    sigma: float | None = None
    regime: str | None = None
    exchange_ns: int | None = None


# -- execution ---------------------------------------------------------------------------------


@frozen
class OrderEvent:
    """Every state change of one of our orders, as the order looked right after it."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    client_order_id: ClientOrderId
    instrument_name: str
    side: Side
    state: OrderState
    price_ticks: int
    amount_lots: int
    filled_lots: int
    status: OrderStatus | None = None
    exchange_order_id: ExchangeOrderId | None = None
    change_reason: ChangeReason | None = None
    delete_reason: DeleteReason | None = None
    reject_code: int | None = None
    exchange_ns: int | None = None

    @classmethod
    def from_order(
        cls,
        run_id: RunId,
        local_ns: int,
        order: Order,
        *,
        change_reason: ChangeReason | None = None,
        exchange_ns: int | None = None,
    ) -> OrderEvent:
        """The event recording `order` as it is now."""
        return cls(
            run_id=run_id,
            local_ns=local_ns,
            client_order_id=order.client_order_id,
            instrument_name=order.instrument_name,
            side=order.side,
            state=order.state,
            price_ticks=order.price_ticks,
            amount_lots=order.amount_lots,
            filled_lots=order.filled_lots,
            status=order.status,
            exchange_order_id=order.exchange_order_id,
            change_reason=change_reason,
            delete_reason=order.delete_reason,
            reject_code=order.rejected_code,
            exchange_ns=exchange_ns,
        )


@frozen
class FillEvent:
    """A fill of ours; the exchange time is `fill.time_ns`.

    `fair_ticks` is the strategy's fair value when the fill arrived (spread capture is measured
    against it) and `level` the ladder level the order was quoted at (0 = best), when known.
    """

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    fill: Fill
    fair_ticks: float | None = None
    level: int | None = None


@frozen
class FeeEvent:
    """A fill's fee learnt after the fill was recorded (live: from the account's trade
    history, since order notifications carry none); `fee_change` adds to its recorded fee."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    instrument_name: str
    trade_id: TradeId
    fee_change: float


@frozen
class RpcErrorEvent:
    """An error result of one of our JSON-RPC requests (a reject, a throttle, ...)."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    method: str
    code: int
    message: str
    request_id: int | None = None


@frozen
class PositionSnapshot:
    """Position and PnL of one instrument at one mark, in lots, ticks and the quote currency."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    instrument_name: str
    size_lots: int
    avg_entry_ticks: float
    realised: float
    unrealised: float
    fees: float
    funding: float
    mark_price: float

    @classmethod
    def from_position(
        cls, run_id: RunId, local_ns: int, position: Position, pnl: PnL, mark_price: float
    ) -> PositionSnapshot:
        """The snapshot of `position` valued as `pnl` at `mark_price`."""
        return cls(
            run_id=run_id,
            local_ns=local_ns,
            instrument_name=position.instrument_name,
            size_lots=position.size_lots,
            avg_entry_ticks=float(position.avg_entry_ticks),
            realised=pnl.realised,
            unrealised=pnl.unrealised,
            fees=pnl.fees,
            funding=pnl.funding,
            mark_price=mark_price,
        )


@frozen
class RiskEvent:
    """A risk check outcome worth recording: which limit, its value and threshold, the verdict."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    limit_name: str
    value: float
    threshold: float
    verdict: str


@frozen
class TradingStateChange:
    """The trading state moved (e.g. ACTIVE -> REDUCING), and why."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    previous: str
    current: str
    reason: str


@frozen
class CalibrationResult:
    """Fitted model parameters with goodness-of-fit measures, as (name, value) pairs."""

    KIND: ClassVar[EventClass] = EventClass.EXECUTION
    run_id: RunId
    local_ns: int
    instrument_name: str
    model: str
    params: tuple[tuple[str, float], ...]
    goodness_of_fit: tuple[tuple[str, float], ...] = ()
    sample_count: int = 0


StoreEvent = (
    RunStarted
    | RunStopped
    | InstrumentInfo
    | TopOfBookSnapshot
    | TickerSnapshot
    | TradePrint
    | IndexPrint
    | QuoteDecision
    | OrderEvent
    | FillEvent
    | FeeEvent
    | RpcErrorEvent
    | PositionSnapshot
    | RiskEvent
    | TradingStateChange
    | CalibrationResult
)
"""Closed union of persisted events; handle with `match` and `assert_never`."""


def event_class(event: StoreEvent) -> EventClass:
    """Whether `event` is execution (never dropped) or market data (may be sampled)."""
    return event.KIND
