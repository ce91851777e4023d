"""Wire values -> domain values: prices to integer ticks and amounts to integer lots.

Every conversion that touches a price or an amount takes the `Instrument`, whose exact grid
arithmetic (`price_to_ticks`, `amount_to_lots`) refuses off-grid values with OffGridError
rather than rounding them silently. Marks and indices stay floats: they are not on the grid.
Timestamps are the exchange's float seconds, converted to integer nanoseconds.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, BookUpdate, IndexPrice, Ticker, TopOfBook, Trade
from thalex_trio.domain.order import OrderUpdate

if TYPE_CHECKING:
    from thalex_trio.thalex.wire_account import ThalexPortfolioEntry
    from thalex_trio.thalex.wire_market import (
        ThalexBookLevel,
        ThalexBookPayload,
        ThalexBookTrade,
        ThalexIndex,
        ThalexInstrument,
        ThalexLwt,
        ThalexRecentTrade,
        ThalexTicker,
    )
    from thalex_trio.thalex.wire_orders import ThalexOrderStatus, ThalexTrade

_US_PER_S = 1_000_000
_MAX_TIMESTAMP_S = 1e11  # about the year 5100: anything larger is not a timestamp


class IncompleteWireValue(ValueError):
    """A wire value lacks a field the domain value needs (the spec marks it optional)."""


def seconds_to_ns(seconds: float) -> int:
    """Exchange timestamp (float seconds) -> integer nanoseconds, at microsecond resolution.

    Epoch seconds times 1e6 stay below 2**53, so whole microseconds come out exact; finer
    digits are beyond what a double holds at this magnitude (and the exchange says its
    timestamps are not precise anyway).
    """
    if not -_MAX_TIMESTAMP_S < seconds < _MAX_TIMESTAMP_S:  # also catches NaN
        # A bad frame must be counted and skipped like any other, not raise OverflowError.
        raise ValueError(f"timestamp out of range: {seconds!r} s")
    return round(seconds * _US_PER_S) * 1000


def instrument_from_wire(wire: ThalexInstrument) -> Instrument:
    """A tradable `Instrument` from the exchange's description of it."""
    if (
        wire.instrument_name is None
        or wire.instrument_type is None
        or wire.underlying is None
        or wire.tick_size is None
        or wire.volume_tick_size is None
    ):
        raise IncompleteWireValue(f"instrument {wire.instrument_name!r} lacks its grids or type")
    return Instrument(
        name=wire.instrument_name,
        kind=wire.instrument_type,
        underlying=wire.underlying,
        tick_size=wire.tick_size,
        volume_tick_size=wire.volume_tick_size,
        min_order_amount=(
            wire.volume_tick_size if wire.min_order_amount is None else wire.min_order_amount
        ),
        product=wire.product,
        expiration_timestamp_s=wire.expiration_timestamp,
        strike_price=wire.strike_price,
        option_type=wire.option_type,
    )


TICKER_TIME_FIELD = "mark_timestamp"
"""The ThalexTicker field that becomes `Ticker.time_ns` (through `seconds_to_ns`)."""

TICKER_COPIED_FIELDS: tuple[tuple[str, str], ...] = (
    ("mark_price", "mark_price"),
    ("index_price", "index"),
    ("best_bid_price", "best_bid_price"),
    ("best_bid_amount", "best_bid_amount"),
    ("best_ask_price", "best_ask_price"),
    ("best_ask_amount", "best_ask_amount"),
    ("last_price", "last_price"),
    ("funding_rate", "funding_rate"),
    ("funding_mark", "funding_mark"),
    ("iv", "iv"),
    ("delta", "delta"),
    ("forward", "forward"),
)
"""(domain `Ticker` field, `ThalexTicker` field) for the values copied as they are.

The one wire -> domain mapping of a ticker: `ticker_from_wire` and the fused bytes -> domain
decoder (`codec_hot.ticker_to_domain`) are both built from it.
"""

_TICKER_WIRE_VALUES = operator.attrgetter(*[wire for _, wire in TICKER_COPIED_FIELDS])
_TICKER_DOMAIN_NAMES = tuple(domain for domain, _ in TICKER_COPIED_FIELDS)


def ticker_from_wire(wire: ThalexTicker, instrument: Instrument) -> Ticker:
    """A `ticker.*` payload as a domain Ticker, stamped with its mark time."""
    values = zip(_TICKER_DOMAIN_NAMES, _TICKER_WIRE_VALUES(wire), strict=True)
    return Ticker(
        instrument_name=instrument.name,
        time_ns=seconds_to_ns(getattr(wire, TICKER_TIME_FIELD)),
        **dict(values),
    )


def book_level_from_wire(wire: ThalexBookLevel, instrument: Instrument) -> BookLevel:
    """A level `[price, amount, outright]` in ticks and lots (amount 0 removes the level)."""
    return BookLevel(instrument.price_to_ticks(wire.price), instrument.amount_to_lots(wire.amount))


def book_from_wire(
    wire: ThalexBookPayload, instrument: Instrument, *, snapshot: bool
) -> BookUpdate:
    """A `book.*` payload as a domain BookUpdate (a snapshot when the envelope says so)."""
    name = instrument.name
    to_ticks, to_lots = instrument.price_to_ticks, instrument.amount_to_lots
    return BookUpdate(
        instrument_name=name,
        bids=tuple([BookLevel(to_ticks(lv.price), to_lots(lv.amount)) for lv in wire.bid_changes]),
        asks=tuple([BookLevel(to_ticks(lv.price), to_lots(lv.amount)) for lv in wire.ask_changes]),
        trades=tuple([book_trade_from_wire(t, instrument) for t in wire.trades]),
        is_snapshot=snapshot,
        time_ns=seconds_to_ns(wire.time),
    )


def book_trade_from_wire(wire: ThalexBookTrade, instrument: Instrument) -> Trade:
    """A trade printed in a `book.*` payload as a domain Trade."""
    return Trade(
        instrument.name,
        instrument.price_to_ticks(wire.price),
        instrument.amount_to_lots(wire.amount),
        wire.direction,
        seconds_to_ns(wire.time),
    )


def top_of_book_from_lwt(wire: ThalexLwt, instrument: Instrument, time_ns: int) -> TopOfBook:
    """An `lwt.*` payload as top of book; the lightweight ticker carries no time of its own."""
    bid = None if wire.best_bid is None else book_level_from_wire(wire.best_bid, instrument)
    ask = None if wire.best_ask is None else book_level_from_wire(wire.best_ask, instrument)
    return TopOfBook(instrument.name, bid, ask, time_ns)


def trade_from_wire(wire: ThalexRecentTrade, instrument: Instrument) -> Trade:
    """A `recent_trades.*` row as a domain Trade."""
    return Trade(
        instrument.name,
        instrument.price_to_ticks(wire.price),
        instrument.amount_to_lots(wire.amount),
        wire.direction,
        seconds_to_ns(wire.time),
    )


def index_from_wire(wire: ThalexIndex) -> IndexPrice:
    """A `price_index.*` payload as a domain IndexPrice."""
    return IndexPrice(wire.index_name, wire.price, seconds_to_ns(wire.timestamp))


def fills_from_order(wire: ThalexOrderStatus, instrument: Instrument) -> tuple[Fill, ...]:
    """The fills in an order update, as domain Fills.

    Order fills carry no fee (it arrives later on `account.trade_history`), so `fee` is 0.0;
    a fill without its own time takes the order's close or create time.
    """
    fallback_s = wire.close_time or wire.create_time or 0.0
    client_order_id = None if wire.client_order_id is None else ClientOrderId(wire.client_order_id)
    return tuple(
        [
            Fill(
                trade_id=TradeId(fill.trade_id),
                instrument_name=instrument.name,
                side=wire.direction,
                price_ticks=instrument.price_to_ticks(fill.price),
                amount_lots=instrument.amount_to_lots(fill.amount),
                liquidity=fill.maker_taker,
                fee=0.0,
                time_ns=seconds_to_ns(fallback_s if fill.time is None else fill.time),
                client_order_id=client_order_id,
                exchange_order_id=ExchangeOrderId(wire.order_id),
            )
            for fill in wire.fills
        ]
    )


def order_update_from_wire(wire: ThalexOrderStatus, instrument: Instrument) -> OrderUpdate | None:
    """An `OrderStatus` as a domain OrderUpdate; None for an order without a client order id.

    Orders we place always carry a client order id; one without it was placed by someone else
    (the web UI, a bot) and has no place in our order state machine.
    """
    if wire.client_order_id is None:
        return None
    return OrderUpdate(
        client_order_id=ClientOrderId(wire.client_order_id),
        exchange_order_id=ExchangeOrderId(wire.order_id),
        status=wire.status,
        change_reason=wire.change_reason,
        price_ticks=None if wire.price is None else instrument.price_to_ticks(wire.price),
        amount_lots=instrument.amount_to_lots(wire.amount),
        filled_lots=instrument.amount_to_lots(wire.filled_amount),
        fills=fills_from_order(wire, instrument),
        delete_reason=wire.delete_reason,
    )


def fill_from_trade(wire: ThalexTrade, instrument: Instrument) -> Fill:
    """An account trade (`account.trade_history`) as a domain Fill, with its fee."""
    if (
        wire.trade_id is None
        or wire.direction is None
        or wire.price is None
        or wire.amount is None
        or wire.time is None
        or wire.maker_taker is None
    ):
        raise IncompleteWireValue(f"trade {wire.trade_id!r} lacks fields a fill needs")
    return Fill(
        trade_id=TradeId(wire.trade_id),
        instrument_name=instrument.name,
        side=wire.direction,
        price_ticks=instrument.price_to_ticks(wire.price),
        amount_lots=instrument.amount_to_lots(wire.amount),
        liquidity=wire.maker_taker,
        fee=0.0 if wire.fee is None else wire.fee,
        time_ns=seconds_to_ns(wire.time),
        client_order_id=None
        if wire.client_order_id is None
        else ClientOrderId(wire.client_order_id),
        exchange_order_id=None if wire.order_id is None else ExchangeOrderId(wire.order_id),
    )


def position_lots(wire: ThalexPortfolioEntry, instrument: Instrument) -> int:
    """The signed position of an `account.portfolio` line in lots (negative is short)."""
    return instrument.amount_to_lots(wire.position)
