"""One example of every persisted event type, for round-trip and report tests."""

from __future__ import annotations

from fractions import Fraction

from thalex_trio.domain.enums import ChangeReason, Liquidity, OrderStatus, Side
from thalex_trio.domain.events import (
    CalibrationResult,
    FeeEvent,
    FillEvent,
    IndexPrint,
    InstrumentInfo,
    OrderEvent,
    PositionSnapshot,
    QuoteDecision,
    RiskEvent,
    RpcErrorEvent,
    RunId,
    RunStarted,
    RunStopped,
    StoreEvent,
    TickerSnapshot,
    TopOfBookSnapshot,
    TradePrint,
    TradingStateChange,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId
from thalex_trio.domain.market import BookLevel, IndexPrice, Ticker, TopOfBook, Trade
from thalex_trio.domain.order import Order
from thalex_trio.domain.position import PnL, Position
from thalex_trio.domain.quote import Quote, QuoteLadder

INSTRUMENT = "BTC-PERPETUAL"
T0_NS = 1_700_000_000_000_000_000


def every_event(run_id: RunId) -> list[StoreEvent]:
    """One event of each of the 15 types, with optional fields set and unset."""
    order = Order.new_insert(ClientOrderId(7), INSTRUMENT, Side.BUY, 1000, 3, T0_NS + 5)
    fill = Fill(
        TradeId("T1"),
        INSTRUMENT,
        Side.BUY,
        1000,
        2,
        Liquidity.MAKER,
        -0.01,
        T0_NS + 9,
        ClientOrderId(7),
        ExchangeOrderId("E7"),
    )
    position = Position(INSTRUMENT, size_lots=2, avg_entry_ticks=Fraction(1000))
    return [
        RunStarted(run_id, T0_NS, "shadow", "0.1.0", '{"max_position_lots": 10}', "test"),
        InstrumentInfo(run_id, T0_NS + 1, INSTRUMENT, 0.5, 0.001),
        TopOfBookSnapshot(
            run_id, T0_NS + 2, TopOfBook(INSTRUMENT, BookLevel(999, 4), None, T0_NS + 1)
        ),
        TickerSnapshot(
            run_id,
            T0_NS + 3,
            Ticker(INSTRUMENT, 500.25, 500.5, T0_NS + 2, funding_rate=0.0001, iv=None),
        ),
        TradePrint(run_id, T0_NS + 4, Trade(INSTRUMENT, 1000, 5, Side.SELL, T0_NS + 3)),
        IndexPrint(run_id, T0_NS + 4, IndexPrice("BTCUSD", 500.4, T0_NS + 3)),
        QuoteDecision(
            run_id,
            T0_NS + 5,
            QuoteLadder(INSTRUMENT, (Quote(Side.BUY, 1000, 3),), (Quote(Side.SELL, 1004, 3),)),
            1002.0,
            1001.5,
            sigma=0.3,
            regime="calm",
            exchange_ns=T0_NS + 2,
        ),
        OrderEvent.from_order(run_id, T0_NS + 5, order, change_reason=ChangeReason.INSERT),
        OrderEvent(
            run_id,
            T0_NS + 9,
            ClientOrderId(7),
            INSTRUMENT,
            Side.BUY,
            order.state,
            1000,
            3,
            2,
            status=OrderStatus.PARTIALLY_FILLED,
            exchange_order_id=ExchangeOrderId("E7"),
            change_reason=ChangeReason.FILL,
            exchange_ns=T0_NS + 8,
        ),
        FillEvent(run_id, T0_NS + 9, fill, fair_ticks=1001.5, level=0),
        FeeEvent(run_id, T0_NS + 9, INSTRUMENT, fill.trade_id, -0.0025),
        RpcErrorEvent(run_id, T0_NS + 10, "private/insert", 5, "throttled", 42),
        PositionSnapshot.from_position(
            run_id, T0_NS + 11, position, PnL(0.0, 0.5, -0.01, 0.0), 500.5
        ),
        RiskEvent(run_id, T0_NS + 12, "max_position", 2.0, 10.0, "ok"),
        TradingStateChange(run_id, T0_NS + 13, "ACTIVE", "REDUCING", "drawdown"),
        CalibrationResult(
            run_id,
            T0_NS + 14,
            INSTRUMENT,
            "avellaneda",
            (("A", 1.5), ("k", 0.3)),
            (("r2", 0.9),),
            500,
        ),
        RunStopped(run_id, T0_NS + 15, "signal", 0),
    ]
