"""The feed: market notifications -> our book, the quoter and the conflating market state;
venue order events -> the order tracker. Order and fill events are never dropped; market state
conflates (the quote loop takes the newest)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_never

import trio

from thalex_trio.domain.events import FillEvent, OrderEvent, TopOfBookSnapshot, TradePrint
from thalex_trio.runtime.market_state import LocalBook
from thalex_trio.runtime.venue import OrderNote, PositionNote
from thalex_trio.thalex.to_domain import book_from_wire, index_from_wire, ticker_from_wire
from thalex_trio.thalex.wire_market import ThalexBookPayload, ThalexIndex, ThalexTicker

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.domain.fill import Fill
    from thalex_trio.runtime.context import RunContext, Trading
    from thalex_trio.runtime.status import RunStats
    from thalex_trio.runtime.venue import Venue, VenueEvent
    from thalex_trio.thalex.frames import ThalexNotification

_log = logging.getLogger(__name__)


_SAMPLE_CHARS = 200


def _skip_bad_value(stats: RunStats, note: ThalexNotification, exc: ValueError) -> None:
    """Count a notification whose values do not convert, log the first one, and go on.

    The wire decoder already counts frames that are not JSON or miss fields; this catches what
    only the instrument can judge (a price off its grid, a timestamp out of range). Bad input
    never stops the feed: the next good update brings the book back.
    """
    stats.bad_market_values += 1
    if stats.bad_market_values == 1:
        _log.warning(
            "skipping a %s notification whose values do not convert (%s): %s",
            note.channel.name,
            exc,
            repr(note.payload)[:_SAMPLE_CHARS],
        )


async def run_market_feed(
    ctx: RunContext,
    trading: Trading,
    venue: Venue,
    notifications: trio.MemoryReceiveChannel[ThalexNotification],
    others: Callable[[ThalexNotification], None],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Apply market notifications of the instrument and its underlying's index; `others` gets
    the rest (option tickers, listing changes).

    Everything already queued is applied before the quote loop hears of it (newest wins: one
    decision per batch, never one per stale update), and taking a queued notification does not
    yield. Started (readiness) once the book has both sides, so the quote loop never starts
    blind.
    """
    apply = _MarketApplier(ctx, trading, venue, others)
    clock = ctx.tick_to_order
    ready = False
    # The session owns `notifications` (not closed here: its reader would break).
    while True:
        try:
            note = notifications.receive_nowait()
        except trio.WouldBlock:
            # Everything queued is applied: one decision on the newest state, then wait.
            origin_ns = clock.take_batch_origin()
            if apply.changed:
                apply.changed = False
                if not ready and None not in (trading.best_bid_ticks, trading.best_ask_ticks):
                    ready = True
                    task_status.started()
                if ready:
                    trading.market.publish(None, origin_ns)
            try:
                note = await notifications.receive()
            except trio.EndOfChannel:
                break
        except trio.EndOfChannel:
            break
        clock.feed_took()
        apply(note)
    await trio.lowlevel.checkpoint()


class _MarketApplier:
    """One market notification into our book, the quoter, the venue and the run's state."""

    def __init__(
        self,
        ctx: RunContext,
        trading: Trading,
        venue: Venue,
        others: Callable[[ThalexNotification], None],
    ) -> None:
        self.ctx = ctx
        self.trading = trading
        self.venue = venue
        self.others = others
        self.book = LocalBook(trading.instrument.name)
        self.changed = False
        """True once a notification of the instrument was applied (the feed resets it)."""

    def __call__(self, note: ThalexNotification) -> None:
        trading = self.trading
        instrument = trading.instrument
        subject = note.channel.subject
        if subject != instrument.name and subject != instrument.underlying:
            self.others(note)
            return
        ctx = self.ctx
        quoter = trading.quoter
        payload = note.payload
        if isinstance(payload, ThalexBookPayload):
            try:
                update = book_from_wire(payload, instrument, snapshot=note.snapshot)
            except ValueError as exc:  # off the grid, or a time out of range
                _skip_bad_value(ctx.stats, note, exc)
                return
            book = self.book
            book.apply(update)
            self.venue.observe_market(update)
            top = book.top()
            quoter.on_top_of_book(top)
            now_ns = ctx.now_ns()
            for trade in update.trades:
                quoter.on_trade(trade)
                ctx.emit(TradePrint(ctx.run_id, now_ns, trade))
            bid = top.bid
            ask = top.ask
            trading.best_bid_ticks = None if bid is None else bid.price_ticks
            trading.best_ask_ticks = None if ask is None else ask.price_ticks
            ctx.emit(TopOfBookSnapshot(ctx.run_id, now_ns, top))
        elif isinstance(payload, ThalexTicker):
            try:
                ticker = ticker_from_wire(payload, instrument)
            except ValueError as exc:
                _skip_bad_value(ctx.stats, note, exc)
                return
            quoter.on_ticker(ticker)
            trading.mark_price = ticker.mark_price
            trading.index_price = ticker.index_price
            now_ns = ctx.now_ns()
        elif isinstance(payload, ThalexIndex):
            try:
                index = index_from_wire(payload)
            except ValueError as exc:
                _skip_bad_value(ctx.stats, note, exc)
                return
            quoter.on_index(index)
            trading.index_price = index.price
            now_ns = ctx.now_ns()
        else:
            return
        trading.last_market_data_ns = now_ns
        ctx.stats.market_updates += 1
        self.changed = True


async def run_order_feed(
    ctx: RunContext,
    trading: Trading,
    events: trio.MemoryReceiveChannel[VenueEvent],
) -> None:
    """Apply the venue's order updates to the tracker and record fills; keep its position."""
    async with events:
        async for event in events:
            match event:
                case OrderNote(update=update, side=side):
                    fills = trading.tracker.on_notification(update, side=side)
                    record_fills(ctx, trading, fills)
                    order = trading.tracker.order(update.client_order_id)
                    if order is not None:
                        ctx.emit(
                            OrderEvent.from_order(
                                ctx.run_id,
                                ctx.now_ns(),
                                order,
                                change_reason=update.change_reason,
                            )
                        )
                    trading.executor_wake.set()
                case PositionNote(size_lots=size_lots):
                    trading.portfolio_lots = size_lots
                    trading.portfolio_updates += 1
                case _:
                    assert_never(event)


ORDER_FEED_SETTLE_CHECKPOINTS = 64
"""Most scheduler passes the executor yields for the order feed to catch up (it runs on the
next pass; the bound only guards against a feed that is gone)."""


class OrderFeedProbe:
    """Whether the order feed has applied every venue event it was sent.

    An event waiting in the channel (or handed to the feed that has not run yet) may be the
    fill of an order the executor is about to amend: sending the amend anyway earns a
    rejection, and the fill can then land on an order the tracker has already forgotten.
    """

    def __init__(self, events: trio.MemoryReceiveChannel[VenueEvent]) -> None:
        self._events = events

    def busy(self) -> bool:
        """True while events are queued or the feed is not back waiting for the next one."""
        stats = self._events.statistics()
        return stats.current_buffer_used > 0 or stats.tasks_waiting_receive == 0

    def settled_with(self, venue: Venue) -> bool:
        """True when neither the venue holds an order event back nor the feed has one to
        apply."""
        return venue.quiet() and not self.busy()

    async def settled(self, venue: Venue | None = None) -> None:
        """Let the feed apply what it was sent, and what `venue` still has to forward (a few
        scheduler passes at most)."""
        await trio.lowlevel.checkpoint()
        for _ in range(ORDER_FEED_SETTLE_CHECKPOINTS):
            if not self.busy() and (venue is None or venue.quiet()):
                return
            await trio.lowlevel.checkpoint()


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


def record_fills(ctx: RunContext, trading: Trading, fills: tuple[Fill, ...]) -> None:
    """Count and record fills already applied to the tracker's position."""
    for fill in fills:
        ctx.stats.fills += 1
        ctx.stats.filled_lots += fill.amount_lots
        trading.quoter.on_own_fill(fill.side, fill.time_ns)
        if trading.last_fill_ns is None or fill.time_ns > trading.last_fill_ns:
            trading.last_fill_ns = fill.time_ns  # a catch-up may bring older fills
        ctx.emit(FillEvent(ctx.run_id, ctx.now_ns(), fill))
        _log.debug(
            "fill %s %d lots at %d ticks", fill.side.value, fill.amount_lots, fill.price_ticks
        )
