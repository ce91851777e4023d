"""Wire requests -> engine requests, and engine reports -> wire results and notifications.

Prices and amounts go to the engine as the client's floats (the engine validates the grid, as
the exchange does); reports come back in ticks and lots and leave as the exchange's numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, assert_never

from attrs import frozen

from thalex_trio.domain.enums import Collar, InsertReason, InstrumentKind, OrderType, Side
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId
from thalex_trio.sim.engine.reports import (
    MassQuoteResult,
    MMProtectionNotice,
    OrderReport,
    RequestOutcome,
)
from thalex_trio.sim.engine.requests import (
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    InsertOrder,
    MassQuote,
    QuoteLevel,
    Request,
    SetMMProtection,
    SideQuotes,
)
from thalex_trio.sim.server.clock import wire_time_s
from thalex_trio.thalex.wire_account import ThalexMmProtectionUpdate, ThalexPortfolioEntry
from thalex_trio.thalex.wire_enums import MmProtectionReason, TradeType
from thalex_trio.thalex.wire_market import ThalexInstrument
from thalex_trio.thalex.wire_orders import (
    ThalexMassQuoteError,
    ThalexMassQuoteResult,
    ThalexOrderFill,
    ThalexOrderStatus,
    ThalexTrade,
)
from thalex_trio.thalex.wire_requests import (
    QuoteSide,
    ThalexAmendRequest,
    ThalexCancelAllRequest,
    ThalexCancelMassQuoteRequest,
    ThalexCancelRequest,
    ThalexCancelSessionRequest,
    ThalexInsertRequest,
    ThalexMassQuoteRequest,
    ThalexQuoteLevel,
    ThalexSetMmProtectionRequest,
)

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.position import Position

EngineCall = (
    ThalexInsertRequest
    | ThalexAmendRequest
    | ThalexCancelRequest
    | ThalexCancelAllRequest
    | ThalexCancelSessionRequest
    | ThalexMassQuoteRequest
    | ThalexSetMmProtectionRequest
    | ThalexCancelMassQuoteRequest
)
"""Wire requests the matching engine answers."""

UNBOUNDED_MARKET_ORDER = 45
"""A market order with `collar: ignore` (API.md §5.2)."""


@frozen
class GatewayRejection:
    """A request refused before it reaches the engine (codes the engine does not produce)."""

    code: int
    message: str


def engine_request(call: EngineCall) -> Request | GatewayRejection:
    """The engine request for a wire request, or the rejection the gateway gives at once."""
    match call:
        case ThalexInsertRequest():
            order_type = call.order_type or OrderType.LIMIT
            if order_type is OrderType.MARKET and call.collar is Collar.IGNORE:
                return GatewayRejection(UNBOUNDED_MARKET_ORDER, "market order with collar ignore")
            return InsertOrder(
                instrument_name=call.instrument_name,
                side=call.direction,
                amount=call.amount,
                price=call.price,
                client_order_id=_client_id(call.client_order_id),
                order_type=order_type,
                time_in_force=call.time_in_force,
                post_only=bool(call.post_only),
                reject_post_only=bool(call.reject_post_only),
                reduce_only=bool(call.reduce_only),
                label=call.label,
                collar=call.collar,
            )
        case ThalexAmendRequest():
            return AmendOrder(
                price=call.price,
                amount=call.amount,
                order_id=None if call.order_id is None else ExchangeOrderId(call.order_id),
                client_order_id=_client_id(call.client_order_id),
                collar=call.collar,
            )
        case ThalexCancelRequest():
            return CancelOrder(
                order_id=None if call.order_id is None else ExchangeOrderId(call.order_id),
                client_order_id=_client_id(call.client_order_id),
            )
        case ThalexCancelAllRequest():
            return CancelAll()
        case ThalexCancelSessionRequest():
            return CancelSession()
        case ThalexMassQuoteRequest():
            return MassQuote(
                quotes=tuple(
                    SideQuotes(q.instrument_name, _levels(q.bid), _levels(q.ask))
                    for q in call.quotes
                ),
                post_only=bool(call.post_only),
                reject_post_only=bool(call.reject_post_only),
                label=call.label,
            )
        case ThalexSetMmProtectionRequest():
            return SetMMProtection(call.product, call.trade_amount, call.quote_amount)
        case ThalexCancelMassQuoteRequest():
            return CancelMassQuote(call.product)
        case _:
            assert_never(call)


def _client_id(value: int | None) -> ClientOrderId | None:
    return None if value is None else ClientOrderId(value)


def _levels(side: QuoteSide | None) -> tuple[QuoteLevel, ...] | None:
    if side is None:
        return None
    if isinstance(side, ThalexQuoteLevel):
        return (QuoteLevel(side.price, side.amount),)
    return tuple(QuoteLevel(level.price, level.amount) for level in side)


# -- engine -> wire ----------------------------------------------------------------------------


def order_fill(fill: Fill, instrument: Instrument) -> ThalexOrderFill:
    """One execution inside an OrderStatus."""
    return ThalexOrderFill(
        trade_id=fill.trade_id,
        price=instrument.ticks_to_price(fill.price_ticks),
        amount=instrument.lots_to_amount(fill.amount_lots),
        maker_taker=fill.liquidity,
        leg_index=0,
        time=wire_time_s(fill.time_ns),
    )


def order_status(report: OrderReport, instrument: Instrument) -> ThalexOrderStatus:
    """`OrderStatus` of an engine report; label and client id only when supplied."""
    update = report.update
    price = None if update.price_ticks is None else instrument.ticks_to_price(update.price_ticks)
    return ThalexOrderStatus(
        order_id=update.exchange_order_id,
        order_type=report.order_type,
        time_in_force=report.time_in_force,
        direction=report.side,
        amount=instrument.lots_to_amount(update.amount_lots),
        filled_amount=instrument.lots_to_amount(update.filled_lots),
        remaining_amount=instrument.lots_to_amount(report.remaining_lots),
        status=update.status,
        fills=tuple(order_fill(f, instrument) for f in update.fills),
        change_reason=update.change_reason,
        insert_reason=InsertReason.CLIENT_REQUEST,
        instrument_name=report.instrument_name,
        price=price,
        label=report.label,
        client_order_id=report.client_order_id,
        delete_reason=update.delete_reason,
        create_time=wire_time_s(report.create_time_ns),
        close_time=None if report.close_time_ns is None else wire_time_s(report.close_time_ns),
        reduce_only=True if report.reduce_only else None,
        persistent=report.persistent,
    )


def mass_quote_result(result: MassQuoteResult, instruments: dict[str, Instrument]) -> object:
    """`DoubleSidedQuoteResult`."""
    errors = []
    for error in result.errors:
        instrument = instruments.get(error.instrument_name)
        price = (
            None
            if error.price_ticks is None or instrument is None
            else instrument.ticks_to_price(error.price_ticks)
        )
        side = "bid" if error.side is Side.BUY else "ask"
        errors.append(ThalexMassQuoteError(int(error.code), error.message, side, price))
    return ThalexMassQuoteResult(result.n_success, result.n_fail, tuple(errors))


def result_value(outcome: RequestOutcome, instruments: dict[str, Instrument]) -> object:
    """The wire `result` of a successful engine request."""
    match outcome:
        case OrderReport():
            return order_status(outcome, instruments[outcome.instrument_name])
        case MassQuoteResult():
            return mass_quote_result(outcome, instruments)
        case int() | None:
            return outcome
        case _:
            assert_never(outcome)


def trade(
    fill: Fill, report: OrderReport, instrument: Instrument, position_after_lots: int
) -> ThalexTrade:
    """An `account.trade_history` item for one of our fills."""
    notional = instrument.notional(fill.price_ticks, fill.amount_lots)
    return ThalexTrade(
        trade_id=fill.trade_id,
        order_id=report.update.exchange_order_id,
        instrument_name=fill.instrument_name,
        direction=fill.side,
        price=instrument.ticks_to_price(fill.price_ticks),
        amount=instrument.lots_to_amount(fill.amount_lots),
        time=wire_time_s(fill.time_ns),
        trade_type=TradeType.NORMAL,
        label=report.label,
        position_after=instrument.lots_to_amount(position_after_lots),
        fee=fill.fee,
        fee_rate=fill.fee / notional if notional else 0.0,
        client_order_id=report.client_order_id,
        maker_taker=fill.liquidity,
        leg_index=0,
    )


def portfolio_entry(
    position: Position, instrument: Instrument, mark: float, index: float
) -> ThalexPortfolioEntry:
    """One `account.portfolio` line (start price is the average entry: no daily settlement)."""
    avg = float(position.avg_entry_ticks) * instrument.tick_size
    pnl = position.pnl(instrument, mark)
    size = instrument.lots_to_amount(position.size_lots)
    return ThalexPortfolioEntry(
        instrument_name=instrument.name,
        position=size,
        mark_price=mark,
        index=index,
        start_price=avg,
        average_price=avg,
        unrealised_pnl=pnl.unrealised,
        realised_pnl=pnl.realised,
        entry_value=avg * size,
        unrealised_perpetual_funding=(
            position.funding if instrument.kind is InstrumentKind.PERPETUAL else None
        ),
    )


def mm_protection(notice: MMProtectionNotice) -> ThalexMmProtectionUpdate:
    """A `session.mm_protection` item."""
    return ThalexMmProtectionUpdate(
        notice.product, notice.remaining_amount, MmProtectionReason(notice.reason.value)
    )


def instrument_wire(instrument: Instrument, product: str) -> ThalexInstrument:
    """`Instrument` as `public/instruments` and the `instruments` channel describe it; an
    expiring one also has its `expiry_date` (the UTC date of `expiration_timestamp`)."""
    expiry_s = instrument.expiration_timestamp_s
    expiry_date = (
        None if expiry_s is None else dt.datetime.fromtimestamp(expiry_s, dt.UTC).date().isoformat()
    )
    return ThalexInstrument(
        instrument_name=instrument.name,
        product=product,
        tick_size=instrument.tick_size,
        volume_tick_size=instrument.volume_tick_size,
        min_order_amount=instrument.min_order_amount,
        underlying=instrument.underlying,
        instrument_type=instrument.kind,
        option_type=instrument.option_type,
        expiry_date=expiry_date,
        expiration_timestamp=expiry_s,
        strike_price=instrument.strike_price,
        base_currency="USD",
    )
