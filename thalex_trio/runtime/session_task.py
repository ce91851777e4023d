"""One session's life: connect -> login -> cancel-on-disconnect -> subscribe -> snapshot open
orders and position -> reconcile with what we believed -> quote; and on the way out, cancel
every order in a shielded scope with a deadline (`wind_down.py`: our order notifications are
applied until the answers are in, so a fill that lands meanwhile is counted).

The same path runs on the first start and on every restart (the restart loop is outside).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import trio
from attrs import frozen
from trio_websocket import WebSocketConnection

from thalex_trio.domain.events import InstrumentInfo
from thalex_trio.domain.position import Position
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.risk.evaluator import TradingState
from thalex_trio.runtime.context import RiskBreach, Trading
from thalex_trio.runtime.executor import run_executor
from thalex_trio.runtime.feed import (
    OrderFeedProbe,
    run_market_feed,
    run_order_feed,
)
from thalex_trio.runtime.market_state import Signal
from thalex_trio.runtime.options import OptionsPipeline
from thalex_trio.runtime.persistence_tap import run_persistence_tap
from thalex_trio.runtime.position_audit import catch_up_fills, run_position_audit
from thalex_trio.runtime.quote_loop import run_quote_loop
from thalex_trio.runtime.venue import VenueEvent
from thalex_trio.runtime.watchdog import run_watchdog
from thalex_trio.runtime.wind_down import wind_down
from thalex_trio.thalex.channels import (
    SYSTEM,
    Channel,
    ChannelKind,
    Delay,
    book_channel,
    price_index_channel,
    private_channel,
    ticker_channel,
)
from thalex_trio.thalex.credentials import Credentials
from thalex_trio.thalex.errors import ReconnectRequested, SessionClosed
from thalex_trio.thalex.network import Network
from thalex_trio.thalex.session import default_connector, open_thalex_session
from thalex_trio.thalex.to_domain import instrument_from_wire
from thalex_trio.thalex.wire_requests import ThalexInstrumentRequest

if TYPE_CHECKING:
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.runtime.context import RunContext
    from thalex_trio.runtime.venue import Venue
    from thalex_trio.strategy.quoter import Quoter
    from thalex_trio.thalex.frames import ThalexNotification
    from thalex_trio.thalex.session import ThalexSession

_log = logging.getLogger(__name__)

START_DEADLINE_S = 20.0
"""Connect, log in, subscribe and snapshot within this, or the attempt fails (and is retried)."""

FIRST_BOOK_DEADLINE_S = 15.0
"""The book must show both sides this soon after subscribing, or the session is restarted."""

CLEANUP_DEADLINE_S = 5.0
"""Cancelling every order at the end of a session must finish within this."""

BOOK_REFRESH_DEADLINE_S = 5.0
"""Resubscribing the book for a fresh snapshot must be answered within this."""

VENUE_EVENT_BUFFER = 1024
"""Order and position events between the venue and the order feed (never dropped)."""


class BookRefreshFailed(SessionClosed):
    """Resubscribing the book got no answer in time: the connection counts as dead, and the
    restart policy starts a new session (which subscribes with a fresh snapshot)."""


class SubscriptionRefused(RuntimeError):
    """The exchange does not take a channel we cannot trade without (our orders, our position,
    any book of our instrument). Retrying the same subscription would not change that: not
    retryable, the process stops with the reason."""


@frozen
class SessionSpec:
    """How to reach the exchange: the endpoint, the key, cancel-on-disconnect, the connector."""

    endpoint: Network | str
    credentials: Credentials | None
    instrument_name: str
    underlying: str
    cancel_on_disconnect_s: int = 6
    connect: Callable[[str], AbstractAsyncContextManager[WebSocketConnection]] | None = None
    wall_clock_s: Callable[[], float] | None = None
    follow_options: bool = False
    """Follow the ATM straddle of the underlying's options for the expected move."""


async def run_session(
    ctx: RunContext,
    spec: SessionSpec,
    make_venue: Callable[[ThalexSession, Instrument], Venue],
    make_quoter: Callable[[Instrument], Quoter],
) -> None:
    """One session from connect to cleanup; returns when stopped, raises on failure."""
    clock = ctx.tick_to_order
    clock.new_session()
    async with open_thalex_session(
        spec.endpoint,
        spec.credentials,
        cancel_on_disconnect_s=spec.cancel_on_disconnect_s if spec.credentials else None,
        subscribe=(SYSTEM,),
        connect=spec.connect or default_connector,
        wall_clock=spec.wall_clock_s or time.time,
        on_frame=clock.on_frame,
        on_send=ctx.sends.on_send,
        on_market=clock.on_market,
    ) as session:
        with trio.fail_after(START_DEADLINE_S):
            wire = await session.request(ThalexInstrumentRequest(spec.instrument_name))
        instrument = instrument_from_wire(wire)
        session.convert_market_data(instrument)  # its books and tickers come as domain values
        # The grid the run's prices and amounts are in (the report values PnL with it).
        ctx.emit(
            InstrumentInfo(
                ctx.run_id,
                ctx.now_ns(),
                instrument.name,
                instrument.tick_size,
                instrument.volume_tick_size,
            )
        )
        trading = ctx.trading
        if trading is None:
            trading = Trading(
                instrument,
                make_quoter(instrument),
                OrderTracker(instrument),
                run_start_ns=ctx.now_ns(),
            )
            ctx.trading = trading
            first_start = True
        else:
            trading.tracker = trading.tracker.restarted()
            trading.book_doubt = Signal()  # a doubt about the last session's book: moot now
            first_start = False
        trading.session_start_ns = ctx.now_ns()
        venue = make_venue(session, instrument)
        # One order-event channel for the session's whole life: what the venue forwarded but
        # the order feed had not applied when trading stopped is applied by the cleanup's.
        venue_send, venue_receive = trio.open_memory_channel[VenueEvent](VENUE_EVENT_BUFFER)
        trading.order_feed = OrderFeedProbe(venue_receive)
        with venue_send, venue_receive:
            try:
                with trio.CancelScope() as scope:
                    ctx.set_trading_scope(scope)
                    await _trade(
                        ctx,
                        spec,
                        session,
                        venue,
                        trading,
                        (venue_send.clone(), venue_receive.clone()),
                        first_start=first_start,
                    )
            except* RiskBreach as group:
                ctx.breach = next(e for e in group.exceptions if isinstance(e, RiskBreach))
                ctx.stop_reason = f"risk breach: {ctx.breach.reason}"
                _log.error("risk breach: %s", ctx.breach.reason)
                raise
            finally:
                ctx.set_trading_scope(None)
                with trio.move_on_after(CLEANUP_DEADLINE_S) as cleanup:
                    cleanup.shield = True
                    await wind_down(
                        ctx,
                        spec,
                        session,
                        venue,
                        trading,
                        (venue_send.clone(), venue_receive.clone()),
                        deadline_s=cleanup.deadline,
                    )
                if cleanup.cancelled_caught:
                    _log.error("cancelling every order did not finish in %g s", CLEANUP_DEADLINE_S)
                    ctx.cleanup_complete = False


MARKET_BOOK_LEVELS = 10
"""Levels a side of others' orders the feed can see in the subscribed book."""


def book_depth(trading: Trading, venue: Venue) -> int:
    """Levels to subscribe to: `MARKET_BOOK_LEVELS`, plus room for ours where the market's
    book shows them (live). The feed takes our orders out of the top of book; each ladder level
    can hold two prices at once (an amend in flight counts at both), and without the extra room
    a ladder as deep as the subscription would leave a side looking empty."""
    if not venue.orders_in_market_book:
        return MARKET_BOOK_LEVELS
    return MARKET_BOOK_LEVELS + 2 * trading.quoter.strategy.levels_per_side


async def _trade(
    ctx: RunContext,
    spec: SessionSpec,
    session: ThalexSession,
    venue: Venue,
    trading: Trading,
    venue_events: tuple[trio.MemorySendChannel[VenueEvent], trio.MemoryReceiveChannel[VenueEvent]],
    *,
    first_start: bool,
) -> None:
    name = trading.instrument.name
    venue_send, venue_receive = venue_events
    with venue_send, venue_receive:
        book = book_channel(name, nlevels=book_depth(trading, venue), delay=Delay.RAW)
        with trio.fail_after(START_DEADLINE_S):
            channels = [
                book,
                ticker_channel(name),
                price_index_channel(spec.underlying),
            ]
            needed = []
            if spec.credentials is not None:
                needed = [
                    private_channel(ChannelKind.SESSION_ORDERS),
                    private_channel(ChannelKind.ACCOUNT_PORTFOLIO),
                ]
                # Fees: order notifications carry none. Quoting goes on without them.
                channels += [*needed, private_channel(ChannelKind.ACCOUNT_TRADE_HISTORY)]
            subscribed = await session.subscribe(channels)
            refused = [c.name for c in needed if c.name not in subscribed]
            if refused:
                # Without our order and position channels we would trade blind to our fills.
                raise SubscriptionRefused(
                    f"the exchange did not take {', '.join(refused)}"
                    " (does the API key have the trading permission?)"
                )
            if book.name not in subscribed:
                book = await _subscribe_whole_book(session, book)
            await _snapshot(ctx, venue, trading, first_start=first_start)
        options = (
            OptionsPipeline(trading, ctx.now_ns, trading.quoter.signal_params.options_min_days)
            if spec.follow_options
            else None
        )
        trading.options = options
        others = _ignore if options is None else options.on_market
        async with trio.open_nursery() as nursery:
            await nursery.start(venue.run, venue_send)
            nursery.start_soon(run_order_feed, ctx, trading, venue_receive)
            with trio.fail_after(FIRST_BOOK_DEADLINE_S):
                await nursery.start(
                    run_market_feed, ctx, trading, venue, session.market_events, others
                )
            _log.info("%s ready: book two-sided, orders and position known; quoting", name)
            nursery.start_soon(run_watchdog, ctx, trading)
            nursery.start_soon(run_quote_loop, ctx, trading)
            nursery.start_soon(run_executor, ctx, trading, venue)
            nursery.start_soon(run_persistence_tap, ctx, trading)
            nursery.start_soon(run_position_audit, ctx, trading, venue)
            nursery.start_soon(_watch_reconnect_notice, session)
            nursery.start_soon(_refresh_book, ctx, session, trading, book)
            if options is not None:
                nursery.start_soon(options.run, session)


def _ignore(_note: ThalexNotification) -> None:
    """Market notifications of other instruments (none are subscribed without options)."""


async def _subscribe_whole_book(session: ThalexSession, refused: Channel) -> Channel:
    """The exchange left our book channel out of its answer: take the whole book instead.

    API.md says any number of levels may be asked for, but only `all` and 10 appear in
    Thalex's own examples, and 10 may be too shallow to see the market behind our ladder.
    Unsubscribing first keeps two book channels from ever feeding one local book, should the
    exchange have taken the first one under another name."""
    assert refused.subject is not None
    whole = book_channel(refused.subject, nlevels="all", delay=Delay.RAW)
    _log.warning("the exchange did not take %s; subscribing %s", refused.name, whole.name)
    await session.unsubscribe([refused])
    if whole.name not in await session.subscribe([whole]):
        raise SubscriptionRefused(f"the exchange takes neither {refused.name} nor {whole.name}")
    return whole


async def _refresh_book(
    ctx: RunContext, session: ThalexSession, trading: Trading, book: Channel
) -> None:
    """Resubscribe the book whenever the feed doubts our copy of it: the exchange answers a
    new subscription with a snapshot, which replaces our book whole."""
    while True:
        await trading.book_doubt.wait()
        with trio.move_on_after(BOOK_REFRESH_DEADLINE_S) as attempt:
            await session.unsubscribe([book])
            await session.subscribe([book])
            ctx.stats.book_refreshes += 1
        if attempt.cancelled_caught:
            # Left between the two, we would have no book at all: start a new session.
            raise BookRefreshFailed(
                f"resubscribing {book.name} got no answer in {BOOK_REFRESH_DEADLINE_S:g} s"
            )


async def _watch_reconnect_notice(session: ThalexSession) -> None:
    await session.wait_reconnect_requested()
    raise ReconnectRequested("the exchange announced a reconnect")


async def _snapshot(ctx: RunContext, venue: Venue, trading: Trading, *, first_start: bool) -> None:
    """Open orders and position at (re)start, reconciled with what we believed."""
    tracker = trading.tracker
    leftovers = await venue.open_orders()
    for note in leftovers:
        # A new session owns no order yet: anything open is from an old session or another
        # client, and must not trade unseen.
        _log.warning(
            "cancelling order %s (client id %d) left open before this session",
            note.update.exchange_order_id,
            note.update.client_order_id,
        )
        await venue.cancel_leftover(note)
    venue_lots = await venue.position_lots()
    if first_start:
        if venue_lots:
            _log.warning("starting with a position of %d lots (average cost unknown)", venue_lots)
        tracker.set_baseline(Position(trading.instrument.name, size_lots=venue_lots))
    else:
        await catch_up_fills(ctx, trading, venue, trading.fills_unseen_since_ns)
        if tracker.position.size_lots != venue_lots:
            raise RiskBreach(
                f"position mismatch after reconnect: ours {tracker.position.size_lots} lots "
                f"from fills, the venue's {venue_lots} lots",
                TradingState.REDUCING,
            )
    trading.portfolio_lots = venue_lots
