"""The position audit: our position and fills checked by request, not only by notification.

Notifications are how fills and the venue's portfolio normally arrive; when some are lost
(a dropped frame, a reader that fell behind), the audit asks the venue with
`private/portfolio` and `private/trade_history` and takes in the fills of our own orders that
never arrived, so a lost notification never costs a fill or a stored row. It runs every
`POSITION_AUDIT_S` and at once on a doubt (the watchdog sees our position differ from the
venue's, or an order was not found). `catch_up_fills` is the one way fills come in from the
history: the audit, the reconnect's snapshot and the cleanup all use it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from thalex_trio.runtime.feed import record_fills

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext, Trading
    from thalex_trio.runtime.venue import Venue

_log = logging.getLogger(__name__)

FILL_CATCH_UP_LOOKBACK_S = 60.0
"""How far before our newest fill a catch-up reads the trade history: a lost fill can be older
than one we did receive (notifications need not fail in order)."""

POSITION_AUDIT_S = 10.0
"""How often the position is audited even without a doubt: notifications are the only other
source of fills and of the portfolio, so if they all stopped, nothing else would notice."""

POSITION_AUDIT_DEADLINE_S = 5.0
"""Longest one audit waits for the venue's answers before it gives up until the next."""


async def run_position_audit(ctx: RunContext, trading: Trading, venue: Venue) -> None:
    """Ask the venue for our position (`private/portfolio`) and take in fills whose order
    notifications never arrived (`private/trade_history`): at once when the position is in
    doubt (the watchdog sees ours differ from the venue's, or an order we hold open was not
    found), and every `POSITION_AUDIT_S` anyway. Requests, not notifications: they still
    answer when notifications are lost.

    A lost notification must not cost a fill: counted from the history (by trade id, so
    nothing is counted twice), the position agrees again and the run goes on. Only fills of
    our own orders are taken: a trade of another client on the account is not ours to absorb,
    so that difference outlives the watchdog's grace and stops the run.
    """
    lookback_ns = round(FILL_CATCH_UP_LOOKBACK_S * 1e9)
    while True:
        with trio.move_on_after(POSITION_AUDIT_S):
            await trading.position_doubt.wait()
        # An answer that never comes (a lost reply) must not end the audits for good.
        with trio.move_on_after(POSITION_AUDIT_DEADLINE_S) as deadline:
            # The venue's position first, then the fills: what fills in between is in our
            # position and not yet in its statement, which the next audit settles.
            updates_before = trading.portfolio_updates
            venue_lots = await venue.position_lots()
            # Not before this session: what an earlier one missed is the reconnect's catch-up.
            session_start_ns = trading.session_start_ns or 0
            since_ns = max(session_start_ns, (trading.last_fill_ns or 0) - lookback_ns)
            await catch_up_fills(ctx, trading, venue, since_ns)
            if trading.portfolio_updates == updates_before:  # else a newer statement is in
                trading.portfolio_lots = venue_lots
            trading.audited_at_s = trio.current_time()
        if deadline.cancelled_caught:
            _log.warning("position audit unanswered for %g s", POSITION_AUDIT_DEADLINE_S)


async def catch_up_fills(ctx: RunContext, trading: Trading, venue: Venue, since_ns: int) -> int:
    """Take in fills of our orders from the trade history at or after `since_ns` that are not
    counted yet; returns how many. (The history is asked from the whole second before
    `since_ns`; client order ids start over in every process, so the time bound matters.)"""
    tracker = trading.tracker
    new = tuple(
        f
        for f in await venue.fills_since(since_ns)
        if f.time_ns >= since_ns
        and f.client_order_id is not None
        and tracker.issued(f.client_order_id)
        and tracker.on_fill(f)
    )
    if new:
        _log.warning("caught up %d fills whose notifications were lost", len(new))
        record_fills(ctx, trading, new)
        trading.executor_wake.set()  # the position moved: plan again
    return len(new)
