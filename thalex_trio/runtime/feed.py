"""The feed: market events -> our book, the quoter and the conflating market state; venue order
events -> the order tracker. Order and fill events are never dropped; market state conflates
(the quote loop takes the newest).

The session hands the instrument's books and tickers over as domain values (decoded straight
from the frame: `ThalexSession.convert_market_data`); everything else, and a book or ticker
whose values do not convert, arrives as its wire notification and is converted (or counted
and skipped) here."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_never

import trio

from thalex_trio.domain.events import (
    FeeEvent,
    FillEvent,
    IndexPrint,
    OrderEvent,
    TickerSnapshot,
    TopOfBookSnapshot,
    TradePrint,
)
from thalex_trio.domain.instrument import OffGridError
from thalex_trio.domain.market import BookUpdate, IndexPrice, Ticker
from thalex_trio.runtime.book_check import (
    BOOK_DOUBT_TOLERANCE_S,
    BOOK_SNAPSHOT_MAX_RETRY_S,
    BOOK_SNAPSHOT_RETRY_S,
    BookCheck,
)
from thalex_trio.runtime.market_state import LocalBook
from thalex_trio.runtime.venue import FeeNote, OrderNote, PositionNote
from thalex_trio.thalex.to_domain import book_from_wire, index_from_wire, ticker_from_wire
from thalex_trio.thalex.wire_market import ThalexBookPayload, ThalexIndex, ThalexTicker

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.domain.fill import Fill
    from thalex_trio.runtime.context import RunContext, Trading
    from thalex_trio.runtime.status import RunStats
    from thalex_trio.runtime.venue import Venue, VenueEvent
    from thalex_trio.thalex.frames import ThalexNotification
    from thalex_trio.thalex.session import MarketEvent

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
    events: trio.MemoryReceiveChannel[MarketEvent],
    others: Callable[[ThalexNotification], None],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Apply market events of the instrument and its underlying's index; `others` gets the
    rest (option tickers, listing changes).

    Everything already queued is applied before the quote loop hears of it (newest wins: one
    decision per batch, never one per stale update), and taking a queued event does not yield.
    Started (readiness) once the book has both sides, so the quote loop never starts blind.
    """
    apply = _MarketApplier(ctx, trading, venue, others)
    clock = ctx.tick_to_order
    ready = False
    # The session owns `events` (not closed here: its reader would break).
    while True:
        try:
            event = events.receive_nowait()
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
                event = await events.receive()
            except trio.EndOfChannel:
                break
        except trio.EndOfChannel:
            break
        clock.feed_took()
        apply(event)
    await trio.lowlevel.checkpoint()


class _MarketApplier:
    """One market event into our book, the quoter, the venue and the run's state."""

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
        self.check = BookCheck(
            round(BOOK_DOUBT_TOLERANCE_S * 1e9),
            round(BOOK_SNAPSHOT_RETRY_S * 1e9),
            round(BOOK_SNAPSHOT_MAX_RETRY_S * 1e9),
        )
        self.changed = False
        """True once a market event of the instrument was applied (the feed resets it)."""

    def __call__(self, event: MarketEvent) -> None:
        if isinstance(event, BookUpdate):
            if event.instrument_name == self.trading.instrument.name:
                self._book(event)
            return
        if isinstance(event, Ticker):
            if event.instrument_name == self.trading.instrument.name:
                self._ticker(event)
            return
        trading = self.trading
        instrument = trading.instrument
        subject = event.channel.subject
        if subject != instrument.name and subject != instrument.underlying:
            self.others(event)
            return
        payload = event.payload
        try:
            if isinstance(payload, ThalexBookPayload):
                self._book(book_from_wire(payload, instrument, snapshot=event.snapshot))
            elif isinstance(payload, ThalexTicker):
                self._ticker(ticker_from_wire(payload, instrument))
            elif isinstance(payload, ThalexIndex):
                self._index(index_from_wire(payload))
        except ValueError as exc:  # off the grid, or a time out of range
            _skip_bad_value(self.ctx.stats, event, exc)

    def _book(self, update: BookUpdate) -> None:
        ctx = self.ctx
        trading = self.trading
        quoter = trading.quoter
        book = self.book
        now_ns = ctx.now_ns()
        book.apply(update)
        if update.is_snapshot:
            ctx.stats.book_snapshots += 1
            self.check.on_snapshot()
        venue = self.venue
        venue.observe_market(update)
        whole = book.top()  # what the exchange shows, our orders included
        self.check.on_book(whole, now_ns)
        # Live, our own orders are in the book: the quoter must see the market without them.
        top = book.top(*trading.tracker.book_lots()) if venue.orders_in_market_book else whole
        quoter.on_top_of_book(top)
        if not update.is_snapshot:  # a snapshot's trades may be old ones, already applied
            for trade in update.trades:
                quoter.on_trade(trade)
                ctx.emit(TradePrint(ctx.run_id, now_ns, trade))
        bid = top.bid
        ask = top.ask
        trading.best_bid_ticks = None if bid is None else bid.price_ticks
        trading.best_ask_ticks = None if ask is None else ask.price_ticks
        ctx.emit(TopOfBookSnapshot(ctx.run_id, now_ns, top))
        self._applied(now_ns)

    def _ticker(self, ticker: Ticker) -> None:
        trading = self.trading
        trading.quoter.on_ticker(ticker)
        trading.mark_price = ticker.mark_price
        trading.index_price = ticker.index_price
        ctx = self.ctx
        now_ns = ctx.now_ns()
        ctx.emit(TickerSnapshot(ctx.run_id, now_ns, ticker))
        if self.book.time_ns:  # a book to compare with (its snapshot came)
            try:
                bid = _ticks_or_none(trading.instrument.price_to_ticks, ticker.best_bid_price)
                ask = _ticks_or_none(trading.instrument.price_to_ticks, ticker.best_ask_price)
            except OffGridError:
                pass  # not a price of ours to compare: the next ticker will do
            else:
                self.check.on_ticker(bid, ask, self.book.top(), now_ns)
        self._applied(now_ns)

    def _index(self, index: IndexPrice) -> None:
        trading = self.trading
        trading.quoter.on_index(index)
        trading.index_price = index.price
        ctx = self.ctx
        now_ns = ctx.now_ns()
        ctx.emit(IndexPrint(ctx.run_id, now_ns, index))
        # Not our instrument's data: an index that keeps ticking must not hide a book and a
        # ticker gone silent from the stale-data limit.
        self._applied(now_ns, instrument_data=False)

    def _applied(self, now_ns: int, *, instrument_data: bool = True) -> None:
        trading = self.trading
        if instrument_data:
            trading.last_market_data_ns = now_ns
        self.ctx.stats.market_updates += 1
        self.changed = True
        if self.check.snapshot_due(now_ns):
            _log.warning(
                "%s: our book disagrees with the exchange's (crossed, or not the ticker's best"
                " bid and ask) for %g s: asking for a fresh snapshot",
                trading.instrument.name,
                BOOK_DOUBT_TOLERANCE_S,
            )
            trading.book_doubt.set()


def _ticks_or_none(to_ticks: Callable[[float], int], price: float | None) -> int | None:
    return None if price is None else to_ticks(price)


async def run_order_feed(
    ctx: RunContext,
    trading: Trading,
    events: trio.MemoryReceiveChannel[VenueEvent],
) -> None:
    """Apply the venue's order updates to the tracker and record fills; keep its position and
    the fees the trade history states."""
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
                case FeeNote(trade_id=trade_id, fee=fee):
                    change = trading.tracker.on_fee(trade_id, fee)
                    if change:
                        name = trading.instrument.name
                        ctx.emit(FeeEvent(ctx.run_id, ctx.now_ns(), name, trade_id, change))
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
