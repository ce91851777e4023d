"""The end of a session: cancel every order, check none is left, and count every fill.

It runs in the session's shielded cleanup scope (a deadline, no cancellation from outside):

1. Over the session: cancel every order (`cancel_session`, then `cancel_all` if anything is
   still open) and list what is left. Meanwhile the venue's forwarder and the order feed keep
   running, and once the last answer is in they get the passes they need to apply what came
   before it: one connection delivers in order, so a fill that landed while everything was
   being cancelled is read and counted, not lost with the connection.
2. Over a new connection, when the session's reader is gone (it crashed, or the tree was
   cancelled around it) while the connection may still be up: nothing sent over the old one
   could be answered, so a fresh login cancels every order of the account and lists what is
   left, and the trade history brings in fills the old session could not read. This is best
   effort: if the exchange cannot be reached, cancel-on-disconnect removes the old session's
   orders once its socket closes.

`ctx.cleanup_complete` records whether no order was left, when a check could be made.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, TypeVar

import trio
from trio_websocket import HandshakeError

from thalex_trio.runtime.feed import OrderFeedProbe, run_order_feed
from thalex_trio.runtime.position_audit import catch_up_fills
from thalex_trio.runtime.venue import CLEANUP_ERRORS, LiveVenue
from thalex_trio.thalex.session import default_connector, open_thalex_session

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext, Trading
    from thalex_trio.runtime.session_task import SessionSpec
    from thalex_trio.runtime.venue import Venue, VenueEvent
    from thalex_trio.thalex.session import ThalexSession

_log = logging.getLogger(__name__)

T = TypeVar("T")

WIND_DOWN_PASSES = 64
"""Most scheduler passes the cleanup gives the order feed to apply the last notifications
(two or three do; the bound only guards against a forwarder that is gone)."""

NEW_CONNECTION_DEADLINE_S = 3.0
"""Connect, log in, cancel and check over a new connection within this."""

NEW_CONNECTION_MARGIN_S = 0.25
"""The new connection gives up this long before the cleanup's own deadline, so a slow
exchange leaves the cleanup unconfirmed rather than failed."""

NEW_CONNECTION_ERRORS: tuple[type[Exception], ...] = (*CLEANUP_ERRORS, HandshakeError)
"""What a new connection's failure may raise (logged; cancel-on-disconnect still applies)."""


async def wind_down(
    ctx: RunContext,
    spec: SessionSpec,
    session: ThalexSession,
    venue: Venue,
    trading: Trading,
    venue_events: tuple[trio.MemorySendChannel[VenueEvent], trio.MemoryReceiveChannel[VenueEvent]],
    *,
    deadline_s: float,
) -> None:
    """Cancel every order and check (see the module); `deadline_s` is the cleanup's own
    deadline (Trio time)."""
    reader_gone = await _over_the_session(ctx, session, venue, trading, venue_events)
    if reader_gone and venue.uses_connection and spec.credentials is not None:
        _log.warning("the session's reader is gone; cancelling every order over a new connection")
        with trio.move_on_at(
            min(
                trio.current_time() + NEW_CONNECTION_DEADLINE_S,
                deadline_s - NEW_CONNECTION_MARGIN_S,
            )
        ) as scope:
            await _over_a_new_connection(ctx, spec, trading)
        if scope.cancelled_caught:
            _log.warning("no answer over a new connection; cancel-on-disconnect applies")


async def _over_the_session(
    ctx: RunContext,
    session: ThalexSession,
    venue: Venue,
    trading: Trading,
    venue_events: tuple[trio.MemorySendChannel[VenueEvent], trio.MemoryReceiveChannel[VenueEvent]],
) -> bool:
    """Step 1; True when it stopped because the session's reader went away first."""
    venue_send, venue_receive = venue_events
    reader_gone = False
    with venue_send, venue_receive:
        async with trio.open_nursery() as nursery:

            async def watch_reader() -> None:
                # Market data is no longer read, but it is drained: a full stream would stall
                # the reader and with it the answers. The stream ends when the reader does.
                nonlocal reader_gone
                await drain(session.market_events)
                if venue.uses_connection:
                    reader_gone = True
                    nursery.cancel_scope.cancel()

            nursery.start_soon(watch_reader)
            await nursery.start(venue.run, venue_send)
            nursery.start_soon(run_order_feed, ctx, trading, venue_receive)
            await cancel_and_check(ctx, venue)
            order_feed = OrderFeedProbe(venue_receive)
            for _ in range(WIND_DOWN_PASSES):
                await trio.lowlevel.checkpoint()
                if venue.quiet() and not order_feed.busy():
                    break
            await _catch_up_last_fills(ctx, venue, trading)
            nursery.cancel_scope.cancel()
    return reader_gone


async def _catch_up_last_fills(ctx: RunContext, venue: Venue, trading: Trading) -> None:
    """Once every order is cancelled and the last notifications are applied: fills whose
    notifications were lost since the last position audit are in the trade history."""
    if trading.session_start_ns is None:
        await trio.lowlevel.checkpoint()
        return
    try:
        await catch_up_fills(ctx, trading, venue, trading.session_start_ns)
    except CLEANUP_ERRORS as exc:
        _log.info("no trade history at the end of the session (%s)", exc)
        await trio.lowlevel.checkpoint()


async def _over_a_new_connection(ctx: RunContext, spec: SessionSpec, trading: Trading) -> None:
    """Step 2: a fresh login cancels and checks every order of the account, and catches up
    the fills the old session could not read."""
    try:
        async with open_thalex_session(
            spec.endpoint,
            spec.credentials,
            cancel_on_disconnect_s=spec.cancel_on_disconnect_s,
            subscribe=(),
            connect=spec.connect or default_connector,
            wall_clock=spec.wall_clock_s or time.time,
        ) as fresh:
            venue = LiveVenue(fresh, trading.instrument)
            await cancel_and_check(ctx, venue)
            await catch_up_fills(ctx, trading, venue, trading.fills_unseen_since_ns)
    except NEW_CONNECTION_ERRORS as exc:
        _log.warning("cleanup over a new connection failed (%s); cancel-on-disconnect applies", exc)
        await trio.lowlevel.checkpoint()


async def cancel_and_check(ctx: RunContext, venue: Venue) -> None:
    """Cancel every order and check none is left (records `ctx.cleanup_complete`)."""
    try:
        await venue.cancel_everything()
        left = await venue.open_orders()
    except CLEANUP_ERRORS as exc:
        # The connection is gone: cancel-on-disconnect removes the orders on the exchange.
        _log.info("cleanup on a closed session (%s); cancel-on-disconnect applies", exc)
        await trio.lowlevel.checkpoint()
        return
    ctx.cleanup_complete = not left
    if left:
        _log.error("%d orders still open after cancelling everything", len(left))
    else:
        _log.info("every order cancelled")


async def drain(stream: trio.MemoryReceiveChannel[T]) -> None:
    """Read and drop everything until the stream ends."""
    with contextlib.suppress(trio.EndOfChannel, trio.ClosedResourceError):
        async for _note in stream:
            pass
    await trio.lowlevel.checkpoint()
