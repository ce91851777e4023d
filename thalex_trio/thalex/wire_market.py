"""Wire types of public market data: tickers, books, trades, index, instruments, system.

Field names are the exchange's (openapi.json); where a key is not a usable Python name the field
has a descriptive name and the codec's converter holds the rename. Array-shaped rows (book
levels, trades) are attrs classes here and JSON arrays on the wire.
"""

from __future__ import annotations

from attrs import frozen

from thalex_trio.domain.enums import InstrumentKind, OptionType, Side
from thalex_trio.thalex.wire_enums import BannerSeverity, Environment, SystemEventKind


@frozen
class ThalexTicker:
    """`Ticker` (`ticker.*` payload and `public/ticker` result); best prices are None when empty."""

    mark_price: float
    mark_timestamp: float
    delta: float
    index: float
    best_bid_price: float | None = None
    best_bid_amount: float | None = None
    best_ask_price: float | None = None
    best_ask_amount: float | None = None
    last_price: float | None = None
    iv: float | None = None
    forward: float | None = None
    volume_24h: float | None = None
    value_24h: float | None = None
    low_price_24h: float | None = None
    high_price_24h: float | None = None
    change_24h: float | None = None
    collar_low: float | None = None
    collar_high: float | None = None
    open_interest: float | None = None
    funding_rate: float | None = None
    funding_mark: float | None = None
    realised_funding_24h: float | None = None
    average_funding_rate_24h: float | None = None


@frozen
class ThalexBookLevel:
    """A book level `[price, amount, outright_amount]`; amount 0 removes the level in a delta."""

    price: float
    amount: float
    outright_amount: float


@frozen
class ThalexBookTrade:
    """A trade in `book.*`: `[price, amount, direction, timestamp, implied_taker]`."""

    price: float
    amount: float
    direction: Side
    time: float
    implied_taker: bool


@frozen
class ThalexBookPayload:
    """`book.<instrument>.<grouping>.<nlevels>.<delay>` notification: level changes and trades."""

    time: float
    trades: tuple[ThalexBookTrade, ...] = ()
    bid_changes: tuple[ThalexBookLevel, ...] = ()
    ask_changes: tuple[ThalexBookLevel, ...] = ()
    total_bid_amount: float | None = None
    total_ask_amount: float | None = None


@frozen
class ThalexBook:
    """`public/book` result: up to 5 levels a side."""

    bids: tuple[ThalexBookLevel, ...]
    asks: tuple[ThalexBookLevel, ...]
    time: float
    last: float | None = None


@frozen
class ThalexLwt:
    """`lwt.*` lightweight ticker; on the wire `b`, `a`, `m`, `v`, `l` (renamed in the codec)."""

    mark_price: float
    best_bid: ThalexBookLevel | None = None
    best_ask: ThalexBookLevel | None = None
    mark_volatility: float | None = None
    last_price: float | None = None


@frozen
class ThalexRecentTrade:
    """A `recent_trades.*` row: `[price, amount, direction, time, instrument_name, implied]`."""

    price: float
    amount: float
    direction: Side
    time: float
    instrument_name: str
    implied_taker: bool


@frozen
class ThalexRecentTrades:
    """`recent_trades.*` payload (a JSON array of rows on the wire)."""

    items: tuple[ThalexRecentTrade, ...]


@frozen
class ThalexIndex:
    """`Index` (`price_index.*` payload and `public/index` result)."""

    index_name: str
    price: float
    timestamp: float
    expiration_print_average: float | None = None
    expiration_progress: float | None = None
    expected_expiration_price: float | None = None
    previous_settlement_price: float | None = None


@frozen
class ThalexInstrumentLeg:
    """One leg of a combination instrument."""

    instrument_name: str
    quantity: int


@frozen
class ThalexInstrument:
    """`Instrument`; every field is optional in the spec. `type` is `instrument_type` here."""

    instrument_name: str | None = None
    product: str | None = None
    tick_size: float | None = None
    volume_tick_size: float | None = None
    min_order_amount: float | None = None
    underlying: str | None = None
    instrument_type: InstrumentKind | None = None
    option_type: OptionType | None = None
    expiry_date: str | None = None
    expiration_timestamp: int | None = None
    strike_price: float | None = None
    base_currency: str | None = None
    legs: tuple[ThalexInstrumentLeg, ...] | None = None
    create_time: float | None = None
    settlement_price: float | None = None
    settlement_index_price: float | None = None


@frozen
class ThalexInstrumentChange:
    """An `instruments` item: exactly one of `added` and `removed` is set."""

    added: ThalexInstrument | None = None
    removed: ThalexInstrument | None = None


@frozen
class ThalexInstrumentsPayload:
    """`instruments` payload (a JSON array of changes on the wire)."""

    items: tuple[ThalexInstrumentChange, ...]


@frozen
class ThalexSystemEvent:
    """`system` payload, e.g. `{"event": "reconnect"}`."""

    event: SystemEventKind


@frozen
class ThalexBanner:
    """An exchange banner (maintenance notices and the like)."""

    time: float
    severity: BannerSeverity
    message: str
    id: int | None = None
    title: str | None = None


@frozen
class ThalexSystemInfo:
    """`public/system_info` result."""

    environment: Environment
    banners: tuple[ThalexBanner, ...]
    api_version: str | None = None
