"""The JSON-RPC methods of the simulated gateway: one handler per request type.

Matching-engine calls go to the engine (their results come back through the core's routing);
everything else is answered here at once. Subscribing answers first and then sends the
snapshots, so the result precedes the channel's first message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

import trio

from thalex_trio.domain.enums import ChangeReason
from thalex_trio.sim.server import translate
from thalex_trio.sim.server.auth import AuthError
from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.ratelimit import NON_PERSISTENT_ENGINE_RATE_PER_S
from thalex_trio.thalex.wire_account import (
    ThalexAccountSummary,
    ThalexCancelOnDisconnectResult,
    ThalexCashHolding,
    ThalexLoginResult,
    ThalexPortfolioPayload,
)
from thalex_trio.thalex.wire_enums import Environment, Sort
from thalex_trio.thalex.wire_market import ThalexSystemInfo
from thalex_trio.thalex.wire_orders import ThalexOrdersPayload, ThalexTrade, ThalexTradeHistory
from thalex_trio.thalex.wire_requests import (
    ThalexAccountSummaryRequest,
    ThalexAmendRequest,
    ThalexBookRequest,
    ThalexCancelAllRequest,
    ThalexCancelMassQuoteRequest,
    ThalexCancelRequest,
    ThalexCancelSessionRequest,
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
    ThalexRequest,
    ThalexSetCancelOnDisconnectRequest,
    ThalexSetMmProtectionRequest,
    ThalexSystemInfoRequest,
    ThalexTickerRequest,
    ThalexTradeHistoryRequest,
    ThalexUnsubscribeRequest,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.sim.engine.reports import OrderReport
    from thalex_trio.sim.server.connection import Connection
    from thalex_trio.thalex.frames import RequestId

AUTHENTICATION_FAILED = 19
INVALID_REQUEST = 6
UNKNOWN_INSTRUMENT = 5
UNKNOWN_UNDERLYING = 40

OPTION_NOT_TRADED = UNKNOWN_INSTRUMENT
"""Code for an insert on a listed option: the matching engine does not know the instrument
(options are market data only, see options.py), so the exchange's UnknownInstrument, with a
message that says so."""

API_VERSION = "2.55.0"

CASH_USD = 1_000_000.0
"""The simulated account's cash collateral."""

MARGIN_RATE = 0.01
"""Required margin as a fraction of position notional (a toy model, not Thalex's)."""

PRIVATE_CHANNELS = frozenset(
    k.value
    for k in (
        ChannelKind.SESSION_ORDERS,
        ChannelKind.ACCOUNT_ORDERS,
        ChannelKind.ACCOUNT_PERSISTENT_ORDERS,
        ChannelKind.ACCOUNT_TRADE_HISTORY,
        ChannelKind.ACCOUNT_PORTFOLIO,
        ChannelKind.SESSION_MM_PROTECTION,
    )
)
"""Private channels this server serves (`account.summary` is not)."""


def handle(conn: Connection, wire_id: RequestId, request: ThalexRequest) -> None:
    """Answer one admitted request (rate limits and login already checked)."""
    core = conn.core
    codec = core.codec

    def ok(value: object) -> None:
        conn.send_frame(codec.encode_result(wire_id, value))

    def fail(code: int, message: str) -> None:
        conn.send_frame(codec.encode_error(wire_id, code, message))

    match request:
        case ThalexLoginRequest():
            try:
                key_id, account = core.verifier.verify(request.token)
            except AuthError as exc:
                fail(AUTHENTICATION_FAILED, str(exc))
                return
            if request.account is not None and request.account != account:
                fail(INVALID_REQUEST, f"unknown account {request.account[:40]!r}")
                return
            conn.key_id, conn.account = key_id, account
            ok(ThalexLoginResult(account))
        case ThalexSetCancelOnDisconnectRequest():
            if request.timeout_secs <= 0:
                fail(INVALID_REQUEST, "timeout_secs must be positive")
                return
            core.engine.set_cancel_on_disconnect(conn.session_id)
            conn.timeout_s = float(request.timeout_secs)
            conn.set_engine_rate(NON_PERSISTENT_ENGINE_RATE_PER_S)
            ok(ThalexCancelOnDisconnectResult(NON_PERSISTENT_ENGINE_RATE_PER_S))
        case (
            ThalexInsertRequest()
            | ThalexAmendRequest()
            | ThalexCancelRequest()
            | ThalexCancelAllRequest()
            | ThalexCancelSessionRequest()
            | ThalexMassQuoteRequest()
            | ThalexSetMmProtectionRequest()
            | ThalexCancelMassQuoteRequest()
        ):
            if (
                isinstance(request, ThalexInsertRequest)
                and core.publisher.lists(request.instrument_name)
                and request.instrument_name not in core.instruments
            ):
                name = request.instrument_name[:80]
                fail(OPTION_NOT_TRADED, f"{name!r} is listed for market data only: not traded")
                return
            reject = core.injector.plan.reject_insert
            if (
                isinstance(request, ThalexInsertRequest)
                and reject is not None
                and core.injector.flip("reject_insert", reject.p)
            ):
                fail(reject.code, "temporary failure (fault injection)")
                return
            engine_request = translate.engine_request(request)
            if isinstance(engine_request, translate.GatewayRejection):
                fail(engine_request.code, engine_request.message)
                return
            core.submit(conn, wire_id, engine_request)
            if core.injector.chance("drop_mid_request", core.injector.plan.drop_mid_request):
                # Submitted, so it takes effect; the client never hears back (mid-plan).
                conn.close("dropped mid-request (fault injection)", abort=True)
        case ThalexOpenOrdersRequest():
            ok(tuple(_statuses(conn, core.engine.open_orders())))
        case ThalexPortfolioRequest():
            ok(tuple(core.portfolio()))
        case ThalexAccountSummaryRequest():
            ok(_account_summary(conn))
        case ThalexTradeHistoryRequest():
            ok(_trade_history(core.trades, request))
        case ThalexInstrumentsRequest():
            ok(tuple(core.publisher.instrument_wires()))
        case ThalexInstrumentRequest():
            wire = core.publisher.instrument_wire(request.instrument_name)
            if wire is None:
                fail(UNKNOWN_INSTRUMENT, f"unknown instrument {request.instrument_name[:80]!r}")
                return
            ok(wire)
        case ThalexTickerRequest():
            ticker = (
                core.publisher.ticker(request.instrument_name)
                if core.publisher.lists(request.instrument_name)
                else None
            )
            if ticker is None:
                fail(UNKNOWN_INSTRUMENT, f"no ticker for {request.instrument_name[:80]!r}")
                return
            ok(ticker)
        case ThalexIndexRequest():
            index = core.publisher.index(request.underlying)
            if index is None:
                fail(UNKNOWN_UNDERLYING, f"unknown underlying {request.underlying[:80]!r}")
                return
            ok(index)
        case ThalexBookRequest():
            if request.instrument_name not in core.instruments:
                fail(UNKNOWN_INSTRUMENT, f"unknown instrument {request.instrument_name[:80]!r}")
                return
            ok(core.publisher.book(request.instrument_name))
        case ThalexSystemInfoRequest():
            ok(ThalexSystemInfo(Environment.TESTNET, (), API_VERSION))
        case ThalexPublicSubscribeRequest():
            _subscribe_public(conn, wire_id, request.channels)
        case ThalexPrivateSubscribeRequest():
            _subscribe_private(conn, wire_id, request.channels)
        case ThalexUnsubscribeRequest():
            dropped = [name for name in request.channels if name in conn.subscriptions]
            for name in dropped:
                conn.subscriptions.discard(name)
                core.publisher.unsubscribe(conn, name)
            ok(tuple(dropped))
        case _:
            assert_never(request)


TRADE_HISTORY_PAGE = 1000
"""Most trades in one `private/trade_history` page (the spec's maximum `limit`)."""


def _trade_history(
    kept: Iterable[ThalexTrade], request: ThalexTradeHistoryRequest
) -> ThalexTradeHistory:
    """One page of the account's trades: filtered by instrument and by time (`time_low` and
    `time_high`, Unix seconds, inclusive), newest first unless ascending; the bookmark of the
    next page is its offset."""
    trades = list(kept)
    if request.instrument_names:
        names = set(request.instrument_names.split(","))
        trades = [t for t in trades if t.instrument_name in names]
    if request.time_low is not None:
        trades = [t for t in trades if t.time is not None and t.time >= request.time_low]
    if request.time_high is not None:
        trades = [t for t in trades if t.time is not None and t.time <= request.time_high]
    if request.sort is not Sort.ASCENDING:
        trades.reverse()
    bookmark = request.bookmark
    start = int(bookmark) if bookmark is not None and bookmark.isdigit() else 0
    end = start + min(request.limit or TRADE_HISTORY_PAGE, TRADE_HISTORY_PAGE)
    return ThalexTradeHistory(tuple(trades[start:end]), str(end) if end < len(trades) else None)


def _statuses(conn: Connection, reports: list[OrderReport]) -> list[object]:
    core = conn.core
    return [translate.order_status(r, core.instruments[r.instrument_name]) for r in reports]


def _subscribe_public(conn: Connection, wire_id: RequestId, names: tuple[str, ...]) -> None:
    core = conn.core
    accepted = []
    for name in names:
        channel = core.publisher.accepts(name)
        if channel is not None and name not in conn.subscriptions:
            accepted.append(channel)
    conn.subscriptions.update(c.name for c in accepted)
    taken = tuple(name for name in names if name in conn.subscriptions)
    conn.send_frame(core.codec.encode_result(wire_id, tuple(dict.fromkeys(taken))))
    now_s = trio.current_time()
    for channel in accepted:
        core.publisher.subscribe(conn, channel, now_s)


def _subscribe_private(conn: Connection, wire_id: RequestId, names: tuple[str, ...]) -> None:
    core = conn.core
    fresh = [
        n for n in dict.fromkeys(names) if n in PRIVATE_CHANNELS and n not in conn.subscriptions
    ]
    conn.subscriptions.update(fresh)
    taken = tuple(n for n in dict.fromkeys(names) if n in conn.subscriptions)
    conn.send_frame(core.codec.encode_result(wire_id, taken))
    for name in fresh:
        if name == "account.portfolio":
            payload = ThalexPortfolioPayload(tuple(core.portfolio()))
            frame = core.codec.encode_notification(name, payload, snapshot=True)
            conn.send_notification(frame, private=True)
            continue
        if name == "session.orders":
            reports = core.engine.open_orders(conn.session_id)
        elif name == "account.orders":
            reports = core.engine.open_orders()
        elif name == "account.persistent_orders":
            reports = [r for r in core.engine.open_orders() if r.persistent]
        else:
            continue  # trade history and MM protection have no snapshot
        assert all(r.update.change_reason is ChangeReason.EXISTING for r in reports)
        orders = ThalexOrdersPayload(
            tuple(translate.order_status(r, core.instruments[r.instrument_name]) for r in reports)
        )
        frame = core.codec.encode_notification(name, orders, snapshot=True)
        conn.send_notification(frame, private=True)


def _account_summary(conn: Connection) -> ThalexAccountSummary:
    core = conn.core
    unrealised = realised = required = 0.0
    for name, instrument in core.instruments.items():
        position = core.engine.position(name)
        refs = core.publisher.mark_index(name)
        mark = refs[0] if refs else 0.0
        pnl = position.pnl(instrument, mark)
        unrealised += pnl.unrealised
        realised += pnl.realised + pnl.funding - pnl.fees
        required += abs(instrument.lots_to_amount(position.size_lots)) * mark * MARGIN_RATE
    cash = CASH_USD + realised
    margin = cash + unrealised
    return ThalexAccountSummary(
        cash=(ThalexCashHolding("USD", cash, 1.0, True, None),),
        unrealised_pnl=unrealised,
        cash_collateral=cash,
        margin=margin,
        required_margin=required,
        remaining_margin=margin - required,
        session_realised_pnl=realised,
    )
