"""The session shell: one Thalex WebSocket connection under structured concurrency.

`open_thalex_session` connects, logs in (JWT), selects the account, turns on
cancel-on-disconnect so our orders die with the connection, and runs two tasks in its own
nursery: the reader (frames -> replies to waiting callers | market stream | account stream)
and the heartbeat (WebSocket pings inside the server's timeout). Leaving the block closes the
connection. If the connection dies, the block is cancelled and `SessionClosed` comes out of it
(inside an ExceptionGroup, as trio nurseries raise); a `system` reconnect notice sets
`reconnect_requested` so the runtime can move to a new connection before the server closes.

Deadlines belong to the caller: `request` and `subscribe` wait as long as the caller's scope
allows. Only the handshake (login and cancel-on-disconnect) has its own named deadline, since
it runs before the caller gets the session.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from thalex_trio.domain.market import BookUpdate, Ticker
from thalex_trio.thalex.channels import SYSTEM, Channel, ChannelRoute
from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.credentials import Credentials, JwtSigner
from thalex_trio.thalex.errors import (
    THROTTLED,
    HeartbeatTimeout,
    SessionClosed,
    ThalexRpcError,
)
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.network import Network, endpoint_url
from thalex_trio.thalex.ratelimit import Lane, RateLimiter, lane_of
from thalex_trio.thalex.rpc import RpcCorrelator, RpcFailure, RpcReply
from thalex_trio.thalex.wire_enums import SystemEventKind
from thalex_trio.thalex.wire_market import ThalexSystemEvent
from thalex_trio.thalex.wire_requests import (
    ThalexCall,
    ThalexLoginRequest,
    ThalexPrivateSubscribeRequest,
    ThalexPublicSubscribeRequest,
    ThalexSetCancelOnDisconnectRequest,
    ThalexUnsubscribeRequest,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable
    from contextlib import AbstractAsyncContextManager

    from thalex_trio.domain.instrument import Instrument

T = TypeVar("T")

_log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0
"""Deadline for login plus cancel-on-disconnect after the connection is up."""

CANCEL_ON_DISCONNECT_TIMEOUT_S = 6
"""`timeout_secs` for cancel-on-disconnect, as in the official examples."""

HEARTBEAT_INTERVAL_S = 2.0
"""Ping period: three pings fit in the 6 s cancel-on-disconnect window."""

PONG_TIMEOUT_S = 4.0
"""A ping unanswered this long means the connection is dead."""

CONNECT_TIMEOUT_S = 10.0
"""TCP + TLS + WebSocket handshake deadline of the default connector."""

DISCONNECT_TIMEOUT_S = 2.0
"""Close-handshake deadline of the default connector."""

EVENT_BUFFER = 1024
"""Capacity of the market and account streams; a full stream holds up the reader."""

USER_AGENT = b"thalex_trio/0.1"


def default_connector(url: str) -> AbstractAsyncContextManager[WebSocketConnection]:
    """trio-websocket's client with our User-Agent and named handshake deadlines."""
    return open_websocket_url(
        url,
        extra_headers=[(b"User-Agent", USER_AGENT)],
        connect_timeout=CONNECT_TIMEOUT_S,
        disconnect_timeout=DISCONNECT_TIMEOUT_S,
    )


class _Waiter:
    """One caller waiting for its reply."""

    __slots__ = ("done", "outcome")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.outcome: RpcReply | RpcFailure | SessionClosed | None = None


MarketEvent = ThalexNotification | Ticker | BookUpdate
"""An item of `ThalexSession.market_events`: a notification, or the domain value of a ticker
or book of an instrument the session converts (`convert_market_data`)."""


class ThalexSession:
    """A logged-in connection: typed requests, subscriptions, and two event streams.

    `market_events` carries public market data, `account_events` our orders, trades,
    portfolio, summary and MM protection, plus `system` notices. Both are bounded and
    lossless: their consumers must keep up, or the reader (and so every reply) waits.
    """

    def __init__(
        self,
        ws: WebSocketConnection,
        codec: ThalexCodec,
        market_send: trio.MemorySendChannel[MarketEvent],
        account_send: trio.MemorySendChannel[ThalexNotification],
        market_events: trio.MemoryReceiveChannel[MarketEvent],
        account_events: trio.MemoryReceiveChannel[ThalexNotification],
        on_frame: Callable[[str | bytes, int], None] | None = None,
        on_send: Callable[[str, int], None] | None = None,
        on_market: Callable[[MarketEvent], None] | None = None,
    ) -> None:
        self._ws = ws
        self._on_frame = on_frame
        self._on_send = on_send
        self._on_market = on_market
        self._rpc = RpcCorrelator(codec)
        self._limiter = RateLimiter(trio.current_time())
        self._waiters: dict[int, _Waiter] = {}
        self._market_send = market_send
        self._account_send = account_send
        self.market_events = market_events
        """Public market data (book, ticker, lwt, trades, index, instruments): notifications,
        and domain values for the instruments given to `convert_market_data`."""
        self._domain_instruments: dict[str, Instrument] = {}
        self.account_events = account_events
        """Private notifications and `system` notices; never dropped."""
        self._reconnect = trio.Event()
        self._subscriptions: set[str] = set()
        self.account_number: str | None = None
        """The account selected at login (None for a public-only session)."""

    # -- state -------------------------------------------------------------------------------

    def convert_market_data(self, instrument: Instrument) -> None:
        """From now on, deliver `instrument`'s tickers and books on `market_events` as domain
        `Ticker` and `BookUpdate` values, decoded straight from the frame without the wire
        object (the hot path of the feed). A frame whose values do not convert (off the grid)
        still arrives as its notification, for the consumer to report."""
        self._domain_instruments[instrument.name] = instrument

    @property
    def rpc(self) -> RpcCorrelator:
        """The correlator (its `skipped` counter reports bad input by kind)."""
        return self._rpc

    @property
    def limiter(self) -> RateLimiter:
        """The connection's rate limiter."""
        return self._limiter

    def lane_paused_s(self, method: str) -> float:
        """Seconds requests of `method` must still wait after a throttle reply (0.0 if none):
        a caller that waits here first can take its last look at what it sends afterwards."""
        return self._limiter.paused_s(lane_of(method), trio.current_time())

    @property
    def subscriptions(self) -> frozenset[str]:
        """Channels the exchange confirmed and we have not unsubscribed."""
        return frozenset(self._subscriptions)

    @property
    def reconnect_requested(self) -> bool:
        """True once the exchange announced it will close this connection."""
        return self._reconnect.is_set()

    async def wait_reconnect_requested(self) -> None:
        """Wait until the exchange announces a reconnect on `system`."""
        await self._reconnect.wait()

    # -- requests ----------------------------------------------------------------------------

    async def request(self, call: ThalexCall[T]) -> T:
        """Send `call` and wait for its reply; raises the typed ThalexRpcError on an error.

        Rate limits are respected before sending (matching-engine calls and cancels in
        separate lanes); a throttle reply closes the lane for a backoff.
        """
        lane = lane_of(call.method)
        # No checkpoint of our own when the lane is open: sending the frame is one, and a pass
        # of the scheduler here would let every other ready task run before the order leaves.
        if self._limiter.reserve(lane, trio.current_time()) > 0:
            await self._wait_for_lane(lane)
        request_id, frame = self._rpc.send(call)
        waiter = _Waiter()
        self._waiters[request_id] = waiter
        try:
            text = frame.decode()
            await self._ws.send_message(text)
            if self._on_send is not None:
                self._on_send(text, time.time_ns())
            await waiter.done.wait()
        except ConnectionClosed as exc:
            raise SessionClosed(f"connection closed: {exc.reason}") from None
        finally:
            del self._waiters[request_id]
            if not waiter.done.is_set():
                self._rpc.abandon(request_id)
        outcome = waiter.outcome
        if isinstance(outcome, RpcReply):
            self._limiter.on_success(lane)
            return self._rpc.decode(call, outcome.raw)
        if isinstance(outcome, RpcFailure):
            if outcome.error.code == THROTTLED:
                backoff_s = self._limiter.on_throttled(lane, trio.current_time())
                _log.warning(
                    "%s throttled; %s lane paused %.1f s", call.method, lane.value, backoff_s
                )
            raise outcome.error
        assert outcome is not None  # done is only set with an outcome
        raise outcome

    async def _wait_for_lane(self, lane: Lane) -> None:
        await trio.lowlevel.checkpoint()
        while True:
            delay_s = self._limiter.reserve(lane, trio.current_time())
            if delay_s <= 0:
                return
            await trio.sleep(delay_s)

    async def subscribe(self, channels: Iterable[str | Channel]) -> list[str]:
        """Subscribe (public and private as needed); returns the channels the exchange took."""
        public: list[str] = []
        private: list[str] = []
        for channel in channels:
            name = channel.name if isinstance(channel, Channel) else channel
            is_private = (
                channel.is_private
                if isinstance(channel, Channel)
                else name.startswith(("session.", "account.", "mm.", "user."))
            )
            (private if is_private else public).append(name)
        subscribed: list[str] = []
        await trio.lowlevel.checkpoint()
        if public:
            subscribed += await self.request(ThalexPublicSubscribeRequest(tuple(public)))
        if private:
            subscribed += await self.request(ThalexPrivateSubscribeRequest(tuple(private)))
        self._subscriptions.update(subscribed)
        return subscribed

    async def unsubscribe(self, channels: Iterable[str | Channel]) -> list[str]:
        """Unsubscribe; returns the channels the exchange dropped."""
        names = tuple(c.name if isinstance(c, Channel) else c for c in channels)
        dropped = list(await self.request(ThalexUnsubscribeRequest(names)))
        self._subscriptions.difference_update(dropped)
        return dropped

    # -- tasks -------------------------------------------------------------------------------

    async def run_reader(self) -> None:
        """Read frames until the connection closes, then fail the waiters and raise."""
        try:
            async with self._market_send, self._account_send:
                while True:
                    frame = await self._ws.get_message()
                    if self._on_frame is not None:
                        self._on_frame(frame, time.time_ns())
                    received = self._rpc.receive(frame, self._domain_instruments)
                    if isinstance(received, ThalexNotification):
                        await self._route(received)
                    elif isinstance(received, (Ticker, BookUpdate)):
                        await self._queue_market(received)
                    elif received is not None:
                        self._resolve(received)
        except ConnectionClosed as exc:
            closed = SessionClosed(f"connection closed: {exc.reason}")
            self._fail_waiters(closed)
            raise closed from None

    def _resolve(self, reply: RpcReply | RpcFailure) -> None:
        waiter = self._waiters.get(reply.request_id)
        if waiter is not None:
            waiter.outcome = reply
            waiter.done.set()

    async def _queue_market(self, event: MarketEvent) -> None:
        if self._on_market is not None:
            self._on_market(event)
        await self._market_send.send(event)

    async def _route(self, notification: ThalexNotification) -> None:
        route = notification.channel.kind.route
        if route is ChannelRoute.MARKET:
            await self._queue_market(notification)
            return
        if route is ChannelRoute.SYSTEM:
            payload = notification.payload
            if (
                isinstance(payload, ThalexSystemEvent)
                and payload.event is SystemEventKind.RECONNECT
            ):
                _log.warning("exchange announced a reconnect: this connection closes soon")
                self._reconnect.set()
        await self._account_send.send(notification)

    def _fail_waiters(self, error: SessionClosed) -> None:
        self._rpc.fail_all()
        for waiter in self._waiters.values():
            if not waiter.done.is_set():
                waiter.outcome = error
                waiter.done.set()

    async def run_heartbeat(self, interval_s: float) -> None:
        """Ping every `interval_s`; an unanswered ping ends the session."""
        while True:
            await trio.sleep(interval_s)
            try:
                with trio.move_on_after(PONG_TIMEOUT_S) as pong:
                    await self._ws.ping()
            except ConnectionClosed:
                return  # the reader reports the close
            if pong.cancelled_caught:
                error = HeartbeatTimeout(f"no pong within {PONG_TIMEOUT_S} s")
                self._fail_waiters(error)
                raise error

    # -- handshake ---------------------------------------------------------------------------

    async def login(self, signer: JwtSigner, account: str | None, now_s: float) -> None:
        """`public/login` with a fresh token; the token is scrubbed from any error text."""
        token = signer.token(now_s)
        try:
            result = await self.request(ThalexLoginRequest(token, account))
        except ThalexRpcError as exc:
            message = exc.message.replace(token, "<redacted>")
            raise type(exc)(exc.code, message, exc.request, exc.request_id) from None
        self.account_number = result.account_number

    async def set_cancel_on_disconnect(self, timeout_secs: int) -> None:
        """Make this session non-persistent and adopt the higher message rate it grants."""
        result = await self.request(ThalexSetCancelOnDisconnectRequest(timeout_secs))
        self._limiter.set_engine_rate(result.message_rate, trio.current_time())


@asynccontextmanager
async def open_thalex_session(
    network: Network | str,
    credentials: Credentials | None,
    *,
    cancel_on_disconnect_s: int | None = CANCEL_ON_DISCONNECT_TIMEOUT_S,
    subscribe: Iterable[str | Channel] = (SYSTEM,),
    connect: Callable[[str], AbstractAsyncContextManager[WebSocketConnection]] = default_connector,
    wall_clock: Callable[[], float] = time.time,
    strict: bool = False,
    on_frame: Callable[[str | bytes, int], None] | None = None,
    on_send: Callable[[str, int], None] | None = None,
    on_market: Callable[[MarketEvent], None] | None = None,
) -> AsyncIterator[ThalexSession]:
    """Connect, log in, set cancel-on-disconnect, subscribe, and yield the session.

    `network` is a `Network` or a `ws://` URL (the local simulator). `credentials=None` gives
    a public-only session. `cancel_on_disconnect_s=None` leaves the session persistent.
    `subscribe` defaults to `system`, so reconnect notices arrive; pass `()` to skip it.
    `wall_clock` stamps the JWT (injected so tests are deterministic); `strict` decodes with
    unknown keys as errors (tests). `on_frame`, if given, sees every frame exactly as received
    with its local receive time (`time.time_ns()`), before decoding, in the reader task (the
    recorder); it must return quickly, since the reader waits for it. `on_send`, if given,
    sees every request frame we send with its local time, right after the connection took it
    (its bytes are with the kernel), in the sending task; `on_market` sees every market
    event in the reader just before it is queued on `market_events` (with `on_frame`,
    the runtime's tick-to-order clock tells which frame each market event came from). Both
    must return quickly too.
    """
    url = endpoint_url(network)
    codec = ThalexCodec(strict=strict)
    market_send, market_events = trio.open_memory_channel[MarketEvent](EVENT_BUFFER)
    account_send, account_events = trio.open_memory_channel[ThalexNotification](EVENT_BUFFER)
    async with connect(url) as ws, trio.open_nursery() as nursery:
        session = ThalexSession(
            ws,
            codec,
            market_send,
            account_send,
            market_events,
            account_events,
            on_frame,
            on_send,
            on_market,
        )
        nursery.start_soon(session.run_reader)
        with trio.fail_after(HANDSHAKE_TIMEOUT_S):
            if credentials is not None:
                await session.login(JwtSigner(credentials), credentials.account, wall_clock())
                if cancel_on_disconnect_s is not None:
                    await session.set_cancel_on_disconnect(cancel_on_disconnect_s)
            channels = list(subscribe)
            if channels:
                await session.subscribe(channels)
        interval_s = HEARTBEAT_INTERVAL_S
        if cancel_on_disconnect_s is not None:
            interval_s = min(interval_s, cancel_on_disconnect_s / 3)
        nursery.start_soon(session.run_heartbeat, interval_s)
        yield session
        nursery.cancel_scope.cancel()
