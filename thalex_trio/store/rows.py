"""Events as COPY rows: one table per event type, one tuple per event, in column order.

Execution rows start with `(sink_id, seq)`, the id the sink gave the event, which the tables
hold unique so that a replayed row is recognised. Every value is a plain int, float, str or
None (JSON documents as text), so a row is also what the local journal stores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import orjson
from attrs import frozen

from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    Liquidity,
    OrderStatus,
    Side,
)
from thalex_trio.domain.events import (
    CalibrationResult,
    FillEvent,
    IndexPrint,
    InstrumentInfo,
    OrderEvent,
    PositionSnapshot,
    QuoteDecision,
    RiskEvent,
    RpcErrorEvent,
    RunStarted,
    RunStopped,
    StoreEvent,
    TickerSnapshot,
    TopOfBookSnapshot,
    TradePrint,
    TradingStateChange,
)
from thalex_trio.domain.order import OrderState

if TYPE_CHECKING:
    import enum

Value = int | float | str | None
Row = tuple[Value, ...]


@frozen
class Table:
    """A destination table: its name, columns in row order, and whether rows are execution."""

    name: str
    columns: tuple[str, ...]
    execution: bool


_EXEC_ID = ("sink_id", "seq")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "runs",
            (*_EXEC_ID, "run_id", "local_ns", "mode", "version", "network", "config"),
            execution=True,
        ),
        Table(
            "run_stops",
            (*_EXEC_ID, "run_id", "local_ns", "exit_reason", "exit_code"),
            execution=True,
        ),
        Table(
            "instruments",
            (*_EXEC_ID, "run_id", "local_ns", "instrument", "tick_size", "volume_tick_size"),
            execution=True,
        ),
        Table(
            "top_of_book",
            (
                "run_id",
                "local_ns",
                "exchange_ns",
                "instrument",
                "bid_ticks",
                "bid_lots",
                "ask_ticks",
                "ask_lots",
            ),
            execution=False,
        ),
        Table(
            "tickers",
            (
                "run_id",
                "local_ns",
                "exchange_ns",
                "instrument",
                "mark_price",
                "index_price",
                "best_bid_price",
                "best_bid_amount",
                "best_ask_price",
                "best_ask_amount",
                "last_price",
                "funding_rate",
                "funding_mark",
                "iv",
                "delta",
                "forward",
            ),
            execution=False,
        ),
        Table(
            "trades",
            (
                "run_id",
                "local_ns",
                "exchange_ns",
                "instrument",
                "price_ticks",
                "amount_lots",
                "aggressor",
            ),
            execution=False,
        ),
        Table(
            "index_prices",
            ("run_id", "local_ns", "exchange_ns", "index_name", "price"),
            execution=False,
        ),
        Table(
            "quote_decisions",
            (
                "run_id",
                "local_ns",
                "exchange_ns",
                "instrument",
                "fair_ticks",
                "reservation_ticks",
                "sigma",
                "regime",
                "bids",
                "asks",
            ),
            execution=False,
        ),
        Table(
            "order_events",
            (
                *_EXEC_ID,
                "run_id",
                "local_ns",
                "exchange_ns",
                "instrument",
                "client_order_id",
                "exchange_order_id",
                "side",
                "state",
                "status",
                "change_reason",
                "delete_reason",
                "price_ticks",
                "amount_lots",
                "filled_lots",
                "reject_code",
            ),
            execution=True,
        ),
        Table(
            "fills",
            (
                *_EXEC_ID,
                "run_id",
                "local_ns",
                "exchange_ns",
                "instrument",
                "trade_id",
                "client_order_id",
                "exchange_order_id",
                "side",
                "price_ticks",
                "amount_lots",
                "liquidity",
                "fee",
                "fair_ticks",
                "level",
            ),
            execution=True,
        ),
        Table(
            "rpc_errors",
            (*_EXEC_ID, "run_id", "local_ns", "method", "code", "message", "request_id"),
            execution=True,
        ),
        Table(
            "position_snapshots",
            (
                *_EXEC_ID,
                "run_id",
                "local_ns",
                "instrument",
                "size_lots",
                "avg_entry_ticks",
                "realised",
                "unrealised",
                "fees",
                "funding",
                "mark_price",
            ),
            execution=True,
        ),
        Table(
            "risk_events",
            (*_EXEC_ID, "run_id", "local_ns", "limit_name", "value", "threshold", "verdict"),
            execution=True,
        ),
        Table(
            "trading_state_changes",
            (*_EXEC_ID, "run_id", "local_ns", "previous", "current", "reason"),
            execution=True,
        ),
        Table(
            "calibrations",
            (
                *_EXEC_ID,
                "run_id",
                "local_ns",
                "instrument",
                "model",
                "params",
                "goodness_of_fit",
                "sample_count",
            ),
            execution=True,
        ),
    )
}
"""Every destination table by name."""


# Enum `.value` is a descriptor call, several times slower than a dict lookup; rows are built
# for every event, so the lookups are precomputed.
_VALUE: dict[enum.Enum, str] = {
    member: member.value
    for kind in (Side, OrderState, OrderStatus, ChangeReason, DeleteReason, Liquidity)
    for member in kind
}


def _opt(member: enum.Enum | None) -> str | None:
    return None if member is None else _VALUE[member]


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _top_of_book(event: TopOfBookSnapshot) -> Row:
    book = event.book
    bid, ask = book.bid, book.ask
    return (
        event.run_id,
        event.local_ns,
        book.time_ns,
        book.instrument_name,
        None if bid is None else bid.price_ticks,
        None if bid is None else bid.amount_lots,
        None if ask is None else ask.price_ticks,
        None if ask is None else ask.amount_lots,
    )


def _ticker(event: TickerSnapshot) -> Row:
    t = event.ticker
    return (
        event.run_id,
        event.local_ns,
        t.time_ns,
        t.instrument_name,
        t.mark_price,
        t.index_price,
        t.best_bid_price,
        t.best_bid_amount,
        t.best_ask_price,
        t.best_ask_amount,
        t.last_price,
        t.funding_rate,
        t.funding_mark,
        t.iv,
        t.delta,
        t.forward,
    )


def _trade(event: TradePrint) -> Row:
    trade = event.trade
    return (
        event.run_id,
        event.local_ns,
        trade.time_ns,
        trade.instrument_name,
        trade.price_ticks,
        trade.amount_lots,
        _VALUE[trade.aggressor],
    )


def _index(event: IndexPrint) -> Row:
    index = event.index
    return (event.run_id, event.local_ns, index.time_ns, index.index_name, index.price)


def _quote_decision(event: QuoteDecision) -> Row:
    ladder = event.ladder
    return (
        event.run_id,
        event.local_ns,
        event.exchange_ns,
        ladder.instrument_name,
        event.fair_ticks,
        event.reservation_ticks,
        event.sigma,
        event.regime,
        _json([[q.price_ticks, q.amount_lots] for q in ladder.bids]),
        _json([[q.price_ticks, q.amount_lots] for q in ladder.asks]),
    )


def _order(event: OrderEvent, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.exchange_ns,
        event.instrument_name,
        event.client_order_id,
        event.exchange_order_id,
        _VALUE[event.side],
        _VALUE[event.state],
        _opt(event.status),
        _opt(event.change_reason),
        _opt(event.delete_reason),
        event.price_ticks,
        event.amount_lots,
        event.filled_lots,
        event.reject_code,
    )


def _fill(event: FillEvent, sink_id: int, seq: int) -> Row:
    fill = event.fill
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        fill.time_ns,
        fill.instrument_name,
        fill.trade_id,
        fill.client_order_id,
        fill.exchange_order_id,
        _VALUE[fill.side],
        fill.price_ticks,
        fill.amount_lots,
        _VALUE[fill.liquidity],
        fill.fee,
        event.fair_ticks,
        event.level,
    )


def _rpc_error(event: RpcErrorEvent, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.method,
        event.code,
        event.message,
        event.request_id,
    )


def _position(event: PositionSnapshot, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.instrument_name,
        event.size_lots,
        event.avg_entry_ticks,
        event.realised,
        event.unrealised,
        event.fees,
        event.funding,
        event.mark_price,
    )


def _risk(event: RiskEvent, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.limit_name,
        event.value,
        event.threshold,
        event.verdict,
    )


def _trading_state(event: TradingStateChange, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.previous,
        event.current,
        event.reason,
    )


def _calibration(event: CalibrationResult, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.instrument_name,
        event.model,
        _json(dict(event.params)),
        _json(dict(event.goodness_of_fit)),
        event.sample_count,
    )


def _run_started(event: RunStarted, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.mode,
        event.version,
        event.network,
        event.config_json,
    )


def _run_stopped(event: RunStopped, sink_id: int, seq: int) -> Row:
    return (sink_id, seq, event.run_id, event.local_ns, event.exit_reason, event.exit_code)


def _instrument(event: InstrumentInfo, sink_id: int, seq: int) -> Row:
    return (
        sink_id,
        seq,
        event.run_id,
        event.local_ns,
        event.instrument_name,
        event.tick_size,
        event.volume_tick_size,
    )


MarketBuilder = Callable[[StoreEvent], Row]
ExecutionBuilder = Callable[[StoreEvent, int, int], Row]
"""Row builders as dispatched: the table's key type guarantees the event's class (the casts
below widen each builder's parameter from its own class to the union)."""

# Rows are built for every event, on the event loop at `emit`: a lookup by exact type costs one
# dict probe, where a `match` tries each class pattern in turn (a book, the most frequent
# event, went through eleven failed isinstance checks before its own case).
MARKET_ROWS: dict[type, tuple[str, MarketBuilder]] = {
    TopOfBookSnapshot: ("top_of_book", cast("MarketBuilder", _top_of_book)),
    TickerSnapshot: ("tickers", cast("MarketBuilder", _ticker)),
    TradePrint: ("trades", cast("MarketBuilder", _trade)),
    IndexPrint: ("index_prices", cast("MarketBuilder", _index)),
    QuoteDecision: ("quote_decisions", cast("MarketBuilder", _quote_decision)),
}
"""(table, row builder) of each market event type; each builder takes its key's class."""

EXECUTION_ROWS: dict[type, tuple[str, ExecutionBuilder]] = {
    OrderEvent: ("order_events", cast("ExecutionBuilder", _order)),
    FillEvent: ("fills", cast("ExecutionBuilder", _fill)),
    RpcErrorEvent: ("rpc_errors", cast("ExecutionBuilder", _rpc_error)),
    PositionSnapshot: ("position_snapshots", cast("ExecutionBuilder", _position)),
    RiskEvent: ("risk_events", cast("ExecutionBuilder", _risk)),
    TradingStateChange: ("trading_state_changes", cast("ExecutionBuilder", _trading_state)),
    CalibrationResult: ("calibrations", cast("ExecutionBuilder", _calibration)),
    RunStarted: ("runs", cast("ExecutionBuilder", _run_started)),
    RunStopped: ("run_stops", cast("ExecutionBuilder", _run_stopped)),
    InstrumentInfo: ("instruments", cast("ExecutionBuilder", _instrument)),
}
"""(table, row builder taking the event, sink_id and seq) of each execution event type."""


def market_row(event: StoreEvent) -> tuple[str, Row]:
    """(table, row) of a market-class event; raises TypeError for an execution event."""
    try:
        table, build = MARKET_ROWS[type(event)]
    except KeyError:
        raise TypeError(f"not a market event: {type(event).__name__}") from None
    return table, build(event)


def execution_row(event: StoreEvent, sink_id: int, seq: int) -> tuple[str, Row]:
    """(table, row) of any event, with the execution id `(sink_id, seq)` for execution tables."""
    spec = EXECUTION_ROWS.get(type(event))
    if spec is None:
        return market_row(event)
    table, build = spec
    return table, build(event, sink_id, seq)
