"""Wire types of the requests the bot sends: the `params` of each JSON-RPC method.

Each request class names its `method` and, through `ThalexCall[Result]`, the type its RPC result
decodes to, so `session.request(ThalexTickerRequest(...))` is typed `ThalexTicker`. Optional
params default to None and are left out of the frame, as the official connector does.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from attrs import field, frozen

from thalex_trio.domain.enums import Collar, OrderType, Side, TimeInForce
from thalex_trio.thalex.wire_account import (
    ThalexAccountSummary,
    ThalexCancelOnDisconnectResult,
    ThalexLoginResult,
    ThalexPortfolioEntry,
)
from thalex_trio.thalex.wire_enums import InstrumentTypeFilter, Sort, StpAction, StpLevel
from thalex_trio.thalex.wire_market import (
    ThalexBook,
    ThalexIndex,
    ThalexInstrument,
    ThalexSystemInfo,
    ThalexTicker,
)
from thalex_trio.thalex.wire_orders import (
    ThalexMassQuoteResult,
    ThalexOrderStatus,
    ThalexTradeHistory,
)

ResultT_co = TypeVar("ResultT_co", covariant=True)


class ThalexCall(Generic[ResultT_co]):
    """Base of every request: `method` is the JSON-RPC method, `ResultT_co` its result type."""

    __slots__ = ()
    method: ClassVar[str]


def _exactly_one_order_ref(order_id: str | None, client_order_id: int | None) -> None:
    if (order_id is None) == (client_order_id is None):
        raise ValueError("exactly one of order_id and client_order_id must be given")


# -- session ---------------------------------------------------------------------------------


@frozen
class ThalexLoginRequest(ThalexCall[ThalexLoginResult]):
    """`public/login`; the token is a secret and stays out of the repr."""

    method: ClassVar[str] = "public/login"
    token: str = field(repr=False)
    account: str | None = None


@frozen
class ThalexSetCancelOnDisconnectRequest(ThalexCall[ThalexCancelOnDisconnectResult]):
    """`private/set_cancel_on_disconnect`: our orders die with the connection."""

    method: ClassVar[str] = "private/set_cancel_on_disconnect"
    timeout_secs: int


@frozen
class ThalexCancelSessionRequest(ThalexCall[None]):
    """`private/cancel_session`: delete every non-persistent order of this session."""

    method: ClassVar[str] = "private/cancel_session"


# -- trading ---------------------------------------------------------------------------------


@frozen
class ThalexInsertRequest(ThalexCall[ThalexOrderStatus]):
    """`private/insert` of a single-instrument order."""

    method: ClassVar[str] = "private/insert"
    direction: Side
    instrument_name: str
    amount: float
    price: float | None = None
    client_order_id: int | None = None
    label: str | None = None
    order_type: OrderType | None = None
    time_in_force: TimeInForce | None = None
    post_only: bool | None = None
    reject_post_only: bool | None = None
    reduce_only: bool | None = None
    collar: Collar | None = None
    stp_level: StpLevel | None = None
    stp_action: StpAction | None = None


@frozen
class ThalexAmendRequest(ThalexCall[ThalexOrderStatus]):
    """`private/amend`: new price and new *original* amount (volume-safe)."""

    method: ClassVar[str] = "private/amend"
    amount: float
    price: float
    order_id: str | None = None
    client_order_id: int | None = None
    collar: Collar | None = None

    def __attrs_post_init__(self) -> None:
        _exactly_one_order_ref(self.order_id, self.client_order_id)


@frozen
class ThalexCancelRequest(ThalexCall[ThalexOrderStatus]):
    """`private/cancel` of one order, by exchange id or by client order id."""

    method: ClassVar[str] = "private/cancel"
    order_id: str | None = None
    client_order_id: int | None = None

    def __attrs_post_init__(self) -> None:
        _exactly_one_order_ref(self.order_id, self.client_order_id)


@frozen
class ThalexCancelAllRequest(ThalexCall[int]):
    """`private/cancel_all`; the result is the number of orders deleted."""

    method: ClassVar[str] = "private/cancel_all"


@frozen
class ThalexQuoteLevel:
    """One quote level: `{"p": price, "a": amount}` alone, `[price, amount]` in a ladder."""

    price: float
    amount: float


QuoteSide = ThalexQuoteLevel | tuple[ThalexQuoteLevel, ...]
"""A mass-quote side: one level (single-level form) or up to 10 (multi-level form)."""


@frozen
class ThalexDoubleSidedQuote:
    """`DoubleSidedQuote`: `{"i", "b"?, "a"?}`; a None side is left untouched by the exchange."""

    instrument_name: str
    bid: QuoteSide | None = None
    ask: QuoteSide | None = None


@frozen
class ThalexMassQuoteRequest(ThalexCall[ThalexMassQuoteResult]):
    """`private/mass_quote` (non-persistent sessions with MM protection set only)."""

    method: ClassVar[str] = "private/mass_quote"
    quotes: tuple[ThalexDoubleSidedQuote, ...]
    label: str | None = None
    post_only: bool | None = None
    reject_post_only: bool | None = None
    stp_level: StpLevel | None = None
    stp_action: StpAction | None = None


@frozen
class ThalexSetMmProtectionRequest(ThalexCall[None]):
    """`private/set_mm_protection` for one product group of this session."""

    method: ClassVar[str] = "private/set_mm_protection"
    product: str
    trade_amount: float
    quote_amount: float


@frozen
class ThalexCancelMassQuoteRequest(ThalexCall[None]):
    """`private/cancel_mass_quote`, across all sessions, optionally for one product."""

    method: ClassVar[str] = "private/cancel_mass_quote"
    product: str | None = None


# -- account ---------------------------------------------------------------------------------


@frozen
class ThalexOpenOrdersRequest(ThalexCall[tuple[ThalexOrderStatus, ...]]):
    """`private/open_orders`: every open order of the account."""

    method: ClassVar[str] = "private/open_orders"


@frozen
class ThalexPortfolioRequest(ThalexCall[tuple[ThalexPortfolioEntry, ...]]):
    """`private/portfolio`: every position line."""

    method: ClassVar[str] = "private/portfolio"


@frozen
class ThalexAccountSummaryRequest(ThalexCall[ThalexAccountSummary]):
    """`private/account_summary`."""

    method: ClassVar[str] = "private/account_summary"


@frozen
class ThalexTradeHistoryRequest(ThalexCall[ThalexTradeHistory]):
    """`private/trade_history`; `instrument_names` etc. are comma-separated strings on the wire."""

    method: ClassVar[str] = "private/trade_history"
    limit: int | None = None
    time_low: int | None = None
    time_high: int | None = None
    bookmark: str | None = None
    sort: Sort | None = None
    instrument_names: str | None = None
    bot_ids: str | None = None
    order_ids: str | None = None
    direction: Side | None = None
    label: str | None = None


# -- public ----------------------------------------------------------------------------------


@frozen
class ThalexInstrumentsRequest(ThalexCall[tuple[ThalexInstrument, ...]]):
    """`public/instruments`: the active instruments, optionally filtered."""

    method: ClassVar[str] = "public/instruments"
    expiry_date: str | None = None
    underlying: str | None = None
    instrument_type: InstrumentTypeFilter | None = None


@frozen
class ThalexInstrumentRequest(ThalexCall[ThalexInstrument]):
    """`public/instrument`: one instrument, including long-expired ones."""

    method: ClassVar[str] = "public/instrument"
    instrument_name: str


@frozen
class ThalexTickerRequest(ThalexCall[ThalexTicker]):
    """`public/ticker` (not for polling; subscribe to `ticker.*` instead)."""

    method: ClassVar[str] = "public/ticker"
    instrument_name: str


@frozen
class ThalexIndexRequest(ThalexCall[ThalexIndex]):
    """`public/index` of one underlying, e.g. `BTCUSD`."""

    method: ClassVar[str] = "public/index"
    underlying: str


@frozen
class ThalexBookRequest(ThalexCall[ThalexBook]):
    """`public/book`: up to 5 levels a side."""

    method: ClassVar[str] = "public/book"
    instrument_name: str


@frozen
class ThalexSystemInfoRequest(ThalexCall[ThalexSystemInfo]):
    """`public/system_info`."""

    method: ClassVar[str] = "public/system_info"


# -- subscriptions ---------------------------------------------------------------------------


@frozen
class ThalexPublicSubscribeRequest(ThalexCall[tuple[str, ...]]):
    """`public/subscribe`; the result lists the channels actually subscribed."""

    method: ClassVar[str] = "public/subscribe"
    channels: tuple[str, ...]


@frozen
class ThalexPrivateSubscribeRequest(ThalexCall[tuple[str, ...]]):
    """`private/subscribe`; the result lists the channels actually subscribed."""

    method: ClassVar[str] = "private/subscribe"
    channels: tuple[str, ...]


@frozen
class ThalexUnsubscribeRequest(ThalexCall[tuple[str, ...]]):
    """`unsubscribe` (no prefix; public and private channels may be mixed)."""

    method: ClassVar[str] = "unsubscribe"
    channels: tuple[str, ...]


ThalexRequest = (
    ThalexLoginRequest
    | ThalexSetCancelOnDisconnectRequest
    | ThalexCancelSessionRequest
    | ThalexInsertRequest
    | ThalexAmendRequest
    | ThalexCancelRequest
    | ThalexCancelAllRequest
    | ThalexMassQuoteRequest
    | ThalexSetMmProtectionRequest
    | ThalexCancelMassQuoteRequest
    | ThalexOpenOrdersRequest
    | ThalexPortfolioRequest
    | ThalexAccountSummaryRequest
    | ThalexTradeHistoryRequest
    | ThalexInstrumentsRequest
    | ThalexInstrumentRequest
    | ThalexTickerRequest
    | ThalexIndexRequest
    | ThalexBookRequest
    | ThalexSystemInfoRequest
    | ThalexPublicSubscribeRequest
    | ThalexPrivateSubscribeRequest
    | ThalexUnsubscribeRequest
)
"""Closed union of the requests the codec knows; handle with `match` and `assert_never`."""
