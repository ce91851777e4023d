"""The one codec: orjson for bytes, one cattrs converter of ours for structure and unstructure.

The converter is the only place that knows renames (`lwt`'s one-letter keys, mass-quote `i`/`b`/
`a`/`p`, `Instrument.type`), array-shaped rows, and which nulls the exchange writes out. It works
in both directions for every wire type, so the simulator server reuses it: requests encode and
decode, results and notifications decode and encode. Server frames put `id` first in responses
and `channel_name` first in notifications, with `snapshot` only when true (API.md §2.2, §2.4).

Primitive hooks are strict (a string is not a float), so a mistyped field fails decoding instead
of turning into a wrong number. Strict mode also refuses unknown keys, so API drift fails tests.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, TypeVar, cast

import cattrs
import orjson
from attrs import frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from thalex_trio.thalex import codec_hot, to_domain
from thalex_trio.thalex.channels import ChannelKind, UnknownChannel, parse_channel
from thalex_trio.thalex.frames import (
    ClientFrame,
    NotificationPayload,
    RequestId,
    ThalexErrorFrame,
    ThalexNotification,
    ThalexRequestFrame,
    ThalexResultFrame,
)
from thalex_trio.thalex.wire_account import (
    ThalexAccountSummary,
    ThalexCancelOnDisconnectResult,
    ThalexCashHolding,
    ThalexLoginResult,
    ThalexMmProtectionPayload,
    ThalexMmProtectionUpdate,
    ThalexPortfolioEntry,
    ThalexPortfolioPayload,
)
from thalex_trio.thalex.wire_market import (
    ThalexBook,
    ThalexBookLevel,
    ThalexBookPayload,
    ThalexBookTrade,
    ThalexIndex,
    ThalexInstrument,
    ThalexInstrumentChange,
    ThalexInstrumentsPayload,
    ThalexLwt,
    ThalexRecentTrade,
    ThalexRecentTrades,
    ThalexSystemEvent,
    ThalexSystemInfo,
    ThalexTicker,
)
from thalex_trio.thalex.wire_orders import (
    ThalexMassQuoteResult,
    ThalexOrdersPayload,
    ThalexOrderStatus,
    ThalexTrade,
    ThalexTradeHistory,
    ThalexTradesPayload,
)
from thalex_trio.thalex.wire_requests import (
    QuoteSide,
    ThalexAccountSummaryRequest,
    ThalexAmendRequest,
    ThalexBookRequest,
    ThalexCall,
    ThalexCancelAllRequest,
    ThalexCancelMassQuoteRequest,
    ThalexCancelRequest,
    ThalexCancelSessionRequest,
    ThalexDoubleSidedQuote,
    ThalexIndexRequest,
    ThalexInsertRequest,
    ThalexInstrumentRequest,
    ThalexInstrumentsRequest,
    ThalexLoginRequest,
    ThalexMassQuoteRequest,
    ThalexOpenOrdersRequest,
    ThalexPortfolioRequest,
    ThalexPrivateSubscribeRequest,
    ThalexPublicSubscribeRequest,
    ThalexQuoteLevel,
    ThalexRequest,
    ThalexSetCancelOnDisconnectRequest,
    ThalexSetMmProtectionRequest,
    ThalexSystemInfoRequest,
    ThalexTickerRequest,
    ThalexTradeHistoryRequest,
    ThalexUnsubscribeRequest,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.market import BookUpdate, Ticker

T = TypeVar("T")


class DecodeFailure(enum.Enum):
    """Kinds of bad input, counted separately by the reader."""

    NOT_JSON = "not_json"
    BAD_ENVELOPE = "bad_envelope"
    UNKNOWN_CHANNEL = "unknown_channel"
    BAD_PAYLOAD = "bad_payload"
    UNKNOWN_ID = "unknown_id"
    UNKNOWN_METHOD = "unknown_method"


SAMPLE_CHARS = 200
"""How much of an offending frame a log line or exception may quote."""


def truncate(frame: bytes | str, limit: int = SAMPLE_CHARS) -> str:
    """A printable, bounded sample of a frame for logs."""
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    return text if len(text) <= limit else text[:limit] + f"...(+{len(text) - limit} chars)"


class WireDecodeError(ValueError):
    """A frame or payload that does not decode; `kind` says which way it is bad."""

    def __init__(self, kind: DecodeFailure, detail: str, frame: bytes | str = b"") -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail
        self.sample = truncate(frame)


_DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, cattrs.BaseValidationError)


# -- strict primitives -----------------------------------------------------------------------


def _float(value: object, _: object) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _int(value: object, _: object) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)  # the spec types some ids as "number"
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _bool(value: object, _: object) -> bool:
    if type(value) is bool:
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


# -- array-shaped rows and the mass-quote side union ----------------------------------------


def _row(value: object, size: int) -> list[object]:
    if type(value) is not list or len(value) != size:
        raise TypeError(f"expected an array of {size}, got {truncate(repr(value), 60)}")
    return value


def _structure_quote_side(value: object, _: object) -> QuoteSide:
    if type(value) is dict:
        if set(value) != {"p", "a"}:
            raise ValueError(f"a single-level quote has keys p and a, got {sorted(value)}")
        return ThalexQuoteLevel(_float(value["p"], None), _float(value["a"], None))
    if type(value) is list:
        levels = []
        for level in value:
            price, amount = _row(level, 2)
            levels.append(ThalexQuoteLevel(_float(price, None), _float(amount, None)))
        return tuple(levels)
    raise TypeError("a quote side is an object or an array")


def _unstructure_quote_side(side: QuoteSide) -> object:
    if isinstance(side, ThalexQuoteLevel):
        return {"a": side.amount, "p": side.price}
    return [[level.price, level.amount] for level in side]


def _structure_recent_trade(value: object, _: object) -> ThalexRecentTrade:
    price, amount, direction, time, name, implied = _row(value, 6)
    return ThalexRecentTrade(
        _float(price, None),
        _float(amount, None),
        codec_hot.side(direction),
        _float(time, None),
        _str(name, None),
        _bool(implied, None),
    )


def _unstructure_recent_trade(trade: ThalexRecentTrade) -> list[object]:
    return [
        trade.price,
        trade.amount,
        trade.direction.value,
        trade.time,
        trade.instrument_name,
        trade.implied_taker,
    ]


# -- the converter ---------------------------------------------------------------------------

_LIST_PAYLOADS: dict[type, type] = {
    ThalexOrdersPayload: tuple[ThalexOrderStatus, ...],
    ThalexTradesPayload: tuple[ThalexTrade, ...],
    ThalexPortfolioPayload: tuple[ThalexPortfolioEntry, ...],
    ThalexMmProtectionPayload: tuple[ThalexMmProtectionUpdate, ...],
    ThalexInstrumentsPayload: tuple[ThalexInstrumentChange, ...],
    ThalexRecentTrades: tuple[ThalexRecentTrade, ...],
}


def _register_list_payload(converter: cattrs.Converter, cls: type, items: type) -> None:
    def structure(value: object, _: object) -> object:
        if type(value) is not list:
            raise TypeError(f"{cls.__name__} is a JSON array")
        return cls(converter.structure(value, items))

    def unstructure(payload: object) -> object:
        return converter.unstructure(getattr(payload, "items"), items)  # noqa: B009

    converter.register_structure_hook(cls, structure)
    converter.register_unstructure_hook(cls, unstructure)


def make_converter(*, strict: bool) -> cattrs.Converter:
    """Our converter: strict primitives, renames, rows; `strict` also forbids unknown keys."""
    converter = cattrs.Converter(
        omit_if_default=True, forbid_extra_keys=strict, detailed_validation=strict
    )
    converter.register_structure_hook(float, _float)
    converter.register_structure_hook(int, _int)
    converter.register_structure_hook(str, _str)
    converter.register_structure_hook(bool, _bool)

    converter.register_structure_hook(ThalexBookLevel, lambda value, _: codec_hot.book_level(value))
    converter.register_unstructure_hook(
        ThalexBookLevel, lambda lvl: [lvl.price, lvl.amount, lvl.outright_amount]
    )
    converter.register_structure_hook(ThalexBookTrade, lambda value, _: codec_hot.book_trade(value))
    converter.register_unstructure_hook(
        ThalexBookTrade,
        lambda t: [t.price, t.amount, t.direction.value, t.time, t.implied_taker],
    )
    converter.register_structure_hook(ThalexRecentTrade, _structure_recent_trade)
    converter.register_unstructure_hook(ThalexRecentTrade, _unstructure_recent_trade)
    for cls, items in _LIST_PAYLOADS.items():
        _register_list_payload(converter, cls, items)

    b, a = override(rename="b"), override(rename="a")
    m, v, last = override(rename="m"), override(rename="v"), override(rename="l")
    converter.register_structure_hook(
        ThalexLwt,
        make_dict_structure_fn(
            ThalexLwt,
            converter,
            best_bid=b,
            best_ask=a,
            mark_price=m,
            mark_volatility=v,
            last_price=last,
        ),
    )
    converter.register_unstructure_hook(
        ThalexLwt,
        make_dict_unstructure_fn(
            ThalexLwt,
            converter,
            _cattrs_omit_if_default=True,
            best_bid=b,
            best_ask=a,
            mark_price=m,
            mark_volatility=v,
            last_price=last,
        ),
    )
    bid = override(
        rename="b", struct_hook=_structure_quote_side, unstruct_hook=_unstructure_quote_side
    )
    ask = override(
        rename="a", struct_hook=_structure_quote_side, unstruct_hook=_unstructure_quote_side
    )
    name = override(rename="i")
    converter.register_structure_hook(
        ThalexDoubleSidedQuote,
        make_dict_structure_fn(
            ThalexDoubleSidedQuote, converter, instrument_name=name, bid=bid, ask=ask
        ),
    )
    converter.register_unstructure_hook(
        ThalexDoubleSidedQuote,
        make_dict_unstructure_fn(
            ThalexDoubleSidedQuote,
            converter,
            _cattrs_omit_if_default=True,
            instrument_name=name,
            bid=bid,
            ask=ask,
        ),
    )
    kind = override(rename="type")
    converter.register_structure_hook(
        ThalexInstrument,
        make_dict_structure_fn(ThalexInstrument, converter, instrument_type=kind),
    )
    converter.register_unstructure_hook(
        ThalexInstrument,
        make_dict_unstructure_fn(
            ThalexInstrument, converter, _cattrs_omit_if_default=True, instrument_type=kind
        ),
    )
    # The exchange writes these out as null rather than leaving them away (API.md §9.3).
    null = override(omit_if_default=False)
    converter.register_unstructure_hook(
        ThalexTicker,
        make_dict_unstructure_fn(
            ThalexTicker,
            converter,
            _cattrs_omit_if_default=True,
            best_bid_price=null,
            best_bid_amount=null,
            best_ask_price=null,
            best_ask_amount=null,
            last_price=null,
            change_24h=null,
        ),
    )
    converter.register_unstructure_hook(
        ThalexCashHolding,
        make_dict_unstructure_fn(
            ThalexCashHolding, converter, _cattrs_omit_if_default=True, collateral_index_price=null
        ),
    )
    # An empty side of a book update is sent as [] (API.md §9.3).
    converter.register_unstructure_hook(
        ThalexBookPayload,
        make_dict_unstructure_fn(
            ThalexBookPayload,
            converter,
            _cattrs_omit_if_default=True,
            trades=null,
            bid_changes=null,
            ask_changes=null,
        ),
    )
    # Hot channels: hand-written structuring (measured several times faster than generic).
    if not strict:
        converter.register_structure_hook(ThalexTicker, lambda value, _: codec_hot.ticker(value))
        converter.register_structure_hook(
            ThalexBookPayload, lambda value, _: codec_hot.book_payload(value)
        )
    return converter


# -- tables ----------------------------------------------------------------------------------

REQUEST_TYPES: dict[str, type[ThalexRequest]] = {
    cls.method: cls
    for cls in (
        ThalexLoginRequest,
        ThalexSetCancelOnDisconnectRequest,
        ThalexCancelSessionRequest,
        ThalexInsertRequest,
        ThalexAmendRequest,
        ThalexCancelRequest,
        ThalexCancelAllRequest,
        ThalexMassQuoteRequest,
        ThalexSetMmProtectionRequest,
        ThalexCancelMassQuoteRequest,
        ThalexOpenOrdersRequest,
        ThalexPortfolioRequest,
        ThalexAccountSummaryRequest,
        ThalexTradeHistoryRequest,
        ThalexInstrumentsRequest,
        ThalexInstrumentRequest,
        ThalexTickerRequest,
        ThalexIndexRequest,
        ThalexBookRequest,
        ThalexSystemInfoRequest,
        ThalexPublicSubscribeRequest,
        ThalexPrivateSubscribeRequest,
        ThalexUnsubscribeRequest,
    )
}
"""Method name -> request class, for servers decoding requests."""

RESULT_TYPES: dict[type, object] = {
    ThalexLoginRequest: ThalexLoginResult,
    ThalexSetCancelOnDisconnectRequest: ThalexCancelOnDisconnectResult,
    ThalexCancelSessionRequest: None,
    ThalexInsertRequest: ThalexOrderStatus,
    ThalexAmendRequest: ThalexOrderStatus,
    ThalexCancelRequest: ThalexOrderStatus,
    ThalexCancelAllRequest: int,
    ThalexMassQuoteRequest: ThalexMassQuoteResult,
    ThalexSetMmProtectionRequest: None,
    ThalexCancelMassQuoteRequest: None,
    ThalexOpenOrdersRequest: tuple[ThalexOrderStatus, ...],
    ThalexPortfolioRequest: tuple[ThalexPortfolioEntry, ...],
    ThalexAccountSummaryRequest: ThalexAccountSummary,
    ThalexTradeHistoryRequest: ThalexTradeHistory,
    ThalexInstrumentsRequest: tuple[ThalexInstrument, ...],
    ThalexInstrumentRequest: ThalexInstrument,
    ThalexTickerRequest: ThalexTicker,
    ThalexIndexRequest: ThalexIndex,
    ThalexBookRequest: ThalexBook,
    ThalexSystemInfoRequest: ThalexSystemInfo,
    ThalexPublicSubscribeRequest: tuple[str, ...],
    ThalexPrivateSubscribeRequest: tuple[str, ...],
    ThalexUnsubscribeRequest: tuple[str, ...],
}
"""Request class -> the type its `result` decodes to (mirrors the `ThalexCall[...]` bases)."""

PAYLOAD_TYPES: dict[ChannelKind, type[NotificationPayload]] = {
    ChannelKind.BOOK: ThalexBookPayload,
    ChannelKind.TICKER: ThalexTicker,
    ChannelKind.LWT: ThalexLwt,
    ChannelKind.RECENT_TRADES: ThalexRecentTrades,
    ChannelKind.PRICE_INDEX: ThalexIndex,
    ChannelKind.INSTRUMENTS: ThalexInstrumentsPayload,
    ChannelKind.SYSTEM: ThalexSystemEvent,
    ChannelKind.SESSION_ORDERS: ThalexOrdersPayload,
    ChannelKind.ACCOUNT_ORDERS: ThalexOrdersPayload,
    ChannelKind.ACCOUNT_PERSISTENT_ORDERS: ThalexOrdersPayload,
    ChannelKind.ACCOUNT_TRADE_HISTORY: ThalexTradesPayload,
    ChannelKind.ACCOUNT_PORTFOLIO: ThalexPortfolioPayload,
    ChannelKind.ACCOUNT_SUMMARY: ThalexAccountSummary,
    ChannelKind.SESSION_MM_PROTECTION: ThalexMmProtectionPayload,
}
"""Channel family -> the payload type of its `notification`."""


@frozen
class _Envelope:
    """Keys an envelope may carry; `jsonrpc` is tolerated because other SDKs send it."""

    request: frozenset[str] = frozenset({"method", "params", "id", "jsonrpc"})
    response: frozenset[str] = frozenset({"id", "result", "error", "jsonrpc"})
    notification: frozenset[str] = frozenset({"channel_name", "notification", "snapshot"})


_ENVELOPE = _Envelope()
_MISSING = object()
# Enum members as module constants: a member lookup costs a quarter microsecond on 3.11.
_TICKER = ChannelKind.TICKER
_BOOK = ChannelKind.BOOK


class ThalexCodec:
    """Bytes <-> wire types for both ends of the connection.

    `strict=True` (tests, CI) forbids unknown keys anywhere and gives detailed error messages;
    the default is lenient about extra keys, as a client of a moving API must be.
    """

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.converter = make_converter(strict=strict)
        # Result types are type forms (`tuple[X, ...]`, `int`), which `type[T]` cannot express.
        self._structure = cast("Callable[[object, object], object]", self.converter.structure)
        self._payload_hooks = {
            kind: self.converter.get_structure_hook(cls) for kind, cls in PAYLOAD_TYPES.items()
        }

    # -- values ------------------------------------------------------------------------------

    def structure(self, value: object, cls: type[T]) -> T:
        """Raw JSON value -> wire type; raises WireDecodeError(BAD_PAYLOAD)."""
        try:
            return self.converter.structure(value, cls)
        except _DECODE_ERRORS as exc:
            raise WireDecodeError(DecodeFailure.BAD_PAYLOAD, self._explain(exc)) from exc

    def unstructure(self, value: object) -> object:
        """Wire type -> raw JSON value (renames applied, None options left out)."""
        return self.converter.unstructure(value)

    def _explain(self, exc: Exception) -> str:
        if isinstance(exc, cattrs.BaseValidationError):
            return "; ".join(cattrs.transform_error(exc))[:SAMPLE_CHARS]
        return f"{type(exc).__name__}: {exc}"[:SAMPLE_CHARS]

    # -- client side -------------------------------------------------------------------------

    def encode_request(self, request_id: RequestId, request: ThalexCall[object]) -> bytes:
        """`{"method", "params", "id"}` in the official connector's key order; no id if None."""
        frame: dict[str, object] = {
            "method": request.method,
            "params": self.converter.unstructure(request),
        }
        if request_id is not None:
            frame["id"] = request_id
        return orjson.dumps(frame)

    def decode_frame(self, frame: bytes | str) -> ClientFrame:
        """A received frame -> result, error or notification; raises WireDecodeError."""
        try:
            obj = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise WireDecodeError(DecodeFailure.NOT_JSON, str(exc)[:80], frame) from exc
        return self._decode_object(obj, frame)

    def decode_market_frame(
        self, frame: bytes | str, instruments: Mapping[str, Instrument]
    ) -> ClientFrame | Ticker | BookUpdate:
        """Like `decode_frame`, but a ticker or book of a known instrument comes out as a domain
        value: what `to_domain.ticker_from_wire` / `book_from_wire` would make of it.

        The hot channels go from the parsed dict straight to the domain value, skipping the
        wire object. The result, and every error (WireDecodeError of the same kind and detail,
        or OffGridError from the instrument), is the same as `decode_frame` then `to_domain`:
        on any failure the fused path hands the frame to the generic one to raise. Strict
        codecs always take the generic path (the fused decoders allow unknown keys).
        """
        try:
            obj = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise WireDecodeError(DecodeFailure.NOT_JSON, str(exc)[:80], frame) from exc
        name = obj.get("channel_name") if type(obj) is dict else None
        if type(name) is not str or self.strict:
            return self._decode_object(obj, frame)
        try:
            channel = parse_channel(name)
        except UnknownChannel:
            return self._decode_object(obj, frame)
        kind = channel.kind
        instrument = instruments.get(channel.subject) if channel.subject else None
        snapshot = obj.get("snapshot", False)
        if (
            instrument is None
            or (kind is not _TICKER and kind is not _BOOK)
            or type(snapshot) is not bool
        ):
            return self._decode_object(obj, frame)
        try:
            if kind is _TICKER:
                return codec_hot.ticker_to_domain(obj["notification"], instrument.name)
            return codec_hot.book_to_domain(obj["notification"], instrument, snapshot=snapshot)
        except Exception:  # any failure at all: the generic path below decides
            pass
        # The rare bad frame: the generic path raises exactly what it always raised (a bad
        # type, an off-grid price, a timestamp too large for ns), whatever the fused one hit.
        note = self._decode_object(obj, frame)
        assert isinstance(note, ThalexNotification)
        if isinstance(note.payload, ThalexTicker):
            return to_domain.ticker_from_wire(note.payload, instrument)
        assert isinstance(note.payload, ThalexBookPayload)
        return to_domain.book_from_wire(note.payload, instrument, snapshot=snapshot)

    def _decode_object(self, obj: object, frame: bytes | str) -> ClientFrame:
        if type(obj) is not dict:
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "not a JSON object", frame)
        name = obj.get("channel_name")
        if name is not None:
            return self._decode_notification(obj, name, frame)
        if self.strict and not obj.keys() <= _ENVELOPE.response:
            extra = sorted(obj.keys() - _ENVELOPE.response)
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, f"unknown keys {extra}", frame)
        request_id = obj.get("id")
        if request_id is not None and type(request_id) not in (int, str):
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "id is not a scalar", frame)
        if "result" in obj:
            return ThalexResultFrame(request_id, obj["result"])
        error = obj.get("error")
        if type(error) is dict:
            code, message = error.get("code"), error.get("message")
            if type(code) is int and type(message) is str:
                return ThalexErrorFrame(request_id, code, message)
        raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "neither result nor error", frame)

    def _decode_notification(
        self, obj: dict[str, object], name: object, frame: bytes | str
    ) -> ThalexNotification:
        if type(name) is not str:
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "channel_name not a string", frame)
        try:
            channel = parse_channel(name)
        except UnknownChannel as exc:
            raise WireDecodeError(DecodeFailure.UNKNOWN_CHANNEL, str(exc), frame) from exc
        snapshot = obj.get("snapshot", False)
        if type(snapshot) is not bool or "notification" not in obj:
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "bad notification envelope", frame)
        if self.strict and not obj.keys() <= _ENVELOPE.notification:
            extra = sorted(obj.keys() - _ENVELOPE.notification)
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, f"unknown keys {extra}", frame)
        cls = PAYLOAD_TYPES[channel.kind]
        try:
            payload = self._payload_hooks[channel.kind](obj["notification"], cls)
        except _DECODE_ERRORS as exc:
            raise WireDecodeError(
                DecodeFailure.BAD_PAYLOAD, f"{name}: {self._explain(exc)}", frame
            ) from exc
        return ThalexNotification(channel, payload, snapshot)

    def decode_result(self, request: ThalexCall[T], raw: object) -> T:
        """The raw `result` of `request`, as the type its `ThalexCall[T]` base promises."""
        result_type = RESULT_TYPES.get(type(request), _MISSING)
        if result_type is _MISSING:
            raise TypeError(f"no result type for {type(request).__name__}")
        if result_type is None:
            if raw is not None:
                raise WireDecodeError(DecodeFailure.BAD_PAYLOAD, f"{request.method}: not null")
            return cast(T, None)
        try:
            # RESULT_TYPES mirrors the ThalexCall[...] bases one to one (tested), so the
            # structured value has type T; mypy cannot see through the table.
            return cast(T, self._structure(raw, result_type))
        except _DECODE_ERRORS as exc:
            raise WireDecodeError(
                DecodeFailure.BAD_PAYLOAD, f"{request.method}: {self._explain(exc)}"
            ) from exc

    # -- server side -------------------------------------------------------------------------

    def decode_request(self, frame: bytes | str) -> ThalexRequestFrame:
        """A client's request frame -> id and typed params; raises WireDecodeError."""
        try:
            obj = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise WireDecodeError(DecodeFailure.NOT_JSON, str(exc)[:80], frame) from exc
        if type(obj) is not dict or type(obj.get("method")) is not str:
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "no method", frame)
        if self.strict and not obj.keys() <= _ENVELOPE.request:
            extra = sorted(obj.keys() - _ENVELOPE.request)
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, f"unknown keys {extra}", frame)
        request_id = obj.get("id")
        if request_id is not None and type(request_id) not in (int, str):
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "id is not a scalar", frame)
        cls = REQUEST_TYPES.get(obj["method"])
        if cls is None:
            raise WireDecodeError(DecodeFailure.UNKNOWN_METHOD, obj["method"][:80], frame)
        params = obj.get("params")
        if type(params) is not dict:
            raise WireDecodeError(DecodeFailure.BAD_ENVELOPE, "params must be an object", frame)
        return ThalexRequestFrame(request_id, self.structure(params, cls))

    def encode_result(self, request_id: RequestId, result: object) -> bytes:
        """`{"id", "result"}` with `id` first, as the exchange writes it."""
        return orjson.dumps({"id": request_id, "result": self.converter.unstructure(result)})

    def encode_error(self, request_id: RequestId, code: int, message: str) -> bytes:
        """`{"id", "error": {"code", "message"}}` with `id` first."""
        return orjson.dumps({"id": request_id, "error": {"code": code, "message": message}})

    def encode_notification(
        self, channel_name: str, payload: NotificationPayload, *, snapshot: bool = False
    ) -> bytes:
        """`{"channel_name", "notification", "snapshot"?}`; `snapshot` only when true."""
        frame: dict[str, object] = {
            "channel_name": channel_name,
            "notification": self.converter.unstructure(payload),
        }
        if snapshot:
            frame["snapshot"] = True
        return orjson.dumps(frame)
