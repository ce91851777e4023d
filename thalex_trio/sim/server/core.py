"""The simulated exchange behind the sockets: the engine, its market, and report routing.

Everything here is synchronous and runs on the Trio thread, so a request is submitted, the
engine advanced and its reports routed without any other task interleaving. Routing follows
API.md §13 item 23: the RPC result, then the order channels, then the portfolio, then the
(delayed) trade history, in that order within one batch of reports.
"""

from __future__ import annotations

import collections
import logging
from typing import TYPE_CHECKING, Protocol, assert_never

from thalex_trio.domain.enums import ChangeReason, Liquidity
from thalex_trio.sim.engine.reports import (
    MMProtectionNotice,
    OrderNotice,
    PositionNotice,
    Report,
    RequestId,
    RequestResult,
    SessionId,
)
from thalex_trio.sim.server import translate
from thalex_trio.sim.server.market_feed import TapePrint
from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.wire_account import ThalexMmProtectionPayload, ThalexPortfolioPayload
from thalex_trio.thalex.wire_orders import ThalexOrdersPayload, ThalexTrade, ThalexTradesPayload

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.sim.engine.engine import MatchingEngine
    from thalex_trio.sim.engine.reports import OrderReport
    from thalex_trio.sim.engine.requests import Request
    from thalex_trio.sim.server.auth import JwtVerifier
    from thalex_trio.sim.server.channels_out import MarketPublisher
    from thalex_trio.sim.server.clock import SimClock
    from thalex_trio.sim.server.injector import FaultInjector
    from thalex_trio.sim.server.market_feed import MarketFeed
    from thalex_trio.thalex.frames import RequestId as WireId
    from thalex_trio.thalex.wire_account import ThalexPortfolioEntry

_log = logging.getLogger(__name__)

TRADES_KEPT = 10_000
"""Account trades kept for `private/trade_history`."""

MARK_MOVE_RESEND = 0.01
"""A portfolio line is re-sent when the mark moved more than this fraction (API.md §6.3)."""


class Peer(Protocol):
    """What the core needs from a connection."""

    session_id: SessionId
    subscriptions: set[str]

    @property
    def logged_in(self) -> bool:
        """True after a successful `public/login`."""

    def send_frame(self, frame: bytes) -> None:
        """Queue an RPC reply frame (never dropped by faults)."""

    def send_notification(self, frame: bytes, *, private: bool = False) -> None:
        """Queue a notification frame (`private`: of an account or session channel)."""

    def close(self, reason: str, *, abort: bool = False, code: int = 1000) -> None:
        """End the connection (`abort`: without a close frame)."""


class SimCore:
    """Engine, market feeds, publisher and the connections of the one simulated account."""

    def __init__(
        self,
        engine: MatchingEngine,
        clock: SimClock,
        feeds: dict[str, MarketFeed],
        publisher: MarketPublisher,
        verifier: JwtVerifier,
        injector: FaultInjector,
        account_number: str,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.feeds = feeds
        self.publisher = publisher
        self.verifier = verifier
        self.injector = injector
        self.account_number = account_number
        self.codec = ThalexCodec()
        self.instruments: dict[str, Instrument] = {n: engine.instrument(n) for n in feeds}
        self.peers: dict[SessionId, Peer] = {}
        self._pending: dict[RequestId, tuple[Peer, WireId]] = {}
        self.trades: collections.deque[ThalexTrade] = collections.deque(maxlen=TRADES_KEPT)
        self._position_lots: dict[str, int] = collections.Counter()
        self._sent_marks: dict[str, float] = {}
        self.trades_since_status = 0
        self.fills = 0
        self.frame_log: list[tuple[SessionId, bytes]] | None = None
        """When a list: every frame sent, by session (tests validate them against the spec)."""
        self.request_log: dict[tuple[SessionId, WireId], str] = {}
        """With `frame_log`: the method of each request id, to pick the result's schema."""
        self.fill_log: list[tuple[SessionId, Fill]] | None = None
        """When a list: every fill of the account, with the session whose order filled (the
        soak harness checks each one reached the client's store)."""
        self._in_flight: dict[RequestId, tuple[SessionId, Request]] = {}

    # -- sessions ----------------------------------------------------------------------------

    def register(self, peer: Peer) -> None:
        """A new connection (its engine session is already open) receives reports."""
        self.peers[peer.session_id] = peer

    def detach(self, peer: Peer) -> None:
        """The connection is gone: its non-persistent orders die with `session_end`."""
        self.peers.pop(peer.session_id, None)
        for key, (owner, _) in list(self._pending.items()):
            if owner is peer:
                del self._pending[key]
        for name in list(peer.subscriptions):
            self.publisher.unsubscribe(peer, name)
        self.engine.close_session(peer.session_id, self.clock.now_ns())
        self.step()

    # -- time and requests -------------------------------------------------------------------

    def step(self) -> None:
        """Feed the market, advance the engine to now and route what it reported."""
        now_ns = self.clock.now_ns()
        for feed in self.feeds.values():
            feed.feed_through(now_ns)
        self.engine.advance_to(now_ns)
        for name, feed in self.feeds.items():
            trades = feed.take_trades(self.engine.now_ns)
            if trades:
                self.trades_since_status += len(trades)
                self.publisher.on_trades(name, trades)
        self.route(self.engine.drain_reports())

    def submit(self, peer: Peer, wire_id: WireId, request: Request) -> None:
        """Submit an engine request now; its result is routed back to `peer` under `wire_id`."""
        now_ns = self.clock.now_ns()
        request_id = self.engine.submit(peer.session_id, request, now_ns)
        self._pending[request_id] = (peer, wire_id)
        self._in_flight[request_id] = (peer.session_id, request)
        self.step()

    def in_flight(self) -> list[tuple[SessionId, Request]]:
        """Requests submitted to the engine and not yet answered, oldest first, with their
        sessions (including those of connections already gone: the engine still applies them)."""
        return list(self._in_flight.values())

    # -- routing -----------------------------------------------------------------------------

    def route(self, reports: list[Report]) -> None:
        """Send a batch of engine reports, trade history last."""
        trades: list[ThalexTrade] = []
        for report in reports:
            match report:
                case RequestResult():
                    self._result(report)
                case OrderNotice():
                    self._order(report.report, trades)
                case PositionNotice():
                    name = report.position.instrument_name
                    self._portfolio([self.portfolio_entry(name)])
                case MMProtectionNotice():
                    peer = self.peers.get(report.session_id)
                    if peer is not None and ChannelKind.SESSION_MM_PROTECTION.value in (
                        peer.subscriptions
                    ):
                        payload = ThalexMmProtectionPayload((translate.mm_protection(report),))
                        peer.send_notification(
                            self.codec.encode_notification("session.mm_protection", payload),
                            private=True,
                        )
                case _:
                    assert_never(report)
        if trades:
            self.trades.extend(trades)
            self._broadcast("account.trade_history", ThalexTradesPayload(tuple(trades)))

    def _result(self, result: RequestResult) -> None:
        self._in_flight.pop(result.request_id, None)
        owner = self._pending.pop(result.request_id, None)
        if owner is None:
            return  # the connection is gone
        peer, wire_id = owner
        if result.error is not None:
            frame = self.codec.encode_error(wire_id, int(result.error.code), result.error.message)
        else:
            value = translate.result_value(result.outcome, self.instruments)
            frame = self.codec.encode_result(wire_id, value)
        peer.send_frame(frame)

    def _order(self, report: OrderReport, trades: list[ThalexTrade]) -> None:
        instrument = self.instruments[report.instrument_name]
        payload = ThalexOrdersPayload((translate.order_status(report, instrument),))
        peer = self.peers.get(report.session_id)
        filled = report.update.change_reason is not ChangeReason.EXISTING and report.update.fills
        if (
            filled
            and peer is not None
            and self.injector.chance("drop_mid_fill", self.injector.plan.drop_mid_fill)
        ):
            # The fill happened; the socket dies before any report of it reaches the client.
            peer.close("dropped mid-fill (fault injection)", abort=True)
        if peer is not None and "session.orders" in peer.subscriptions:
            peer.send_notification(
                self.codec.encode_notification("session.orders", payload), private=True
            )
        self._broadcast("account.orders", payload)
        if report.persistent:
            self._broadcast("account.persistent_orders", payload)
        if report.update.change_reason is ChangeReason.EXISTING:
            return
        for fill in report.update.fills:
            self.fills += 1
            if self.fill_log is not None:
                self.fill_log.append((report.session_id, fill))
            self._position_lots[fill.instrument_name] += fill.signed_lots
            after = self._position_lots[fill.instrument_name]
            trades.append(translate.trade(fill, report, instrument, after))
        self.publisher.on_trades(instrument.name, map(_tape_print, report.update.fills))

    def _broadcast(self, channel_name: str, payload: object) -> None:
        frame: bytes | None = None
        for peer in list(self.peers.values()):
            if peer.logged_in and channel_name in peer.subscriptions:
                if frame is None:
                    frame = self.codec.encode_notification(channel_name, payload)  # type: ignore[arg-type]  # every caller passes a NotificationPayload
                peer.send_notification(frame, private=True)

    # -- portfolio ---------------------------------------------------------------------------

    def portfolio_entry(self, name: str) -> ThalexPortfolioEntry:
        """One position line at the current mark."""
        instrument = self.instruments[name]
        refs = self.publisher.mark_index(name) or (0.0, 0.0)
        self._sent_marks[name] = refs[0]
        return translate.portfolio_entry(self.engine.position(name), instrument, *refs)

    def portfolio(self) -> list[ThalexPortfolioEntry]:
        """Every line of the account."""
        return [self.portfolio_entry(name) for name in self.instruments]

    def _portfolio(self, lines: list[ThalexPortfolioEntry]) -> None:
        self._broadcast("account.portfolio", ThalexPortfolioPayload(tuple(lines)))

    def refresh_marks(self) -> None:
        """Re-send position lines whose mark moved more than 1% since they were last sent."""
        moved = []
        for name in self.instruments:
            if self.engine.position(name).size_lots == 0:
                continue
            refs = self.publisher.mark_index(name)
            sent = self._sent_marks.get(name)
            if refs is not None and sent and abs(refs[0] / sent - 1.0) > MARK_MOVE_RESEND:
                moved.append(self.portfolio_entry(name))
        if moved:
            self._portfolio(moved)


def _tape_print(fill: Fill) -> TapePrint:
    """Our fill as the public tape shows it: the aggressor is the other side when we made it.

    Every fill of ours is a trade with the market, never with another session (takers take
    the market's levels only), so each is printed once."""
    aggressor = fill.side.sign if fill.liquidity is Liquidity.TAKER else -fill.side.sign
    return TapePrint(fill.time_ns, fill.price_ticks, fill.amount_lots, aggressor)
