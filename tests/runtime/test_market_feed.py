"""The market feed: the top of book it quotes around, doubts about our copy of the book, and
notifications that do not convert.

- Live, our own orders rest in the exchange's public book: the feed takes them out, so the
  quoter sees the rest of the market, not itself. Shadow orders never show in the live book,
  so there nothing is taken out.
- A ticker that keeps naming another best bid or ask than our book's (a book delta was lost)
  makes the feed ask for a fresh snapshot (`Trading.book_doubt`), once.
- The stale-data clock runs on the instrument's book and ticker: the index does not reset it.
- A snapshot's trades (which may repeat old ones) are not applied; a delta's are.
- A notification whose values do not convert is counted and skipped, and the feed goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import orjson
import trio
from hypothesis import given
from hypothesis import strategies as st

from tests.runtime.harness import RecordingSink, make_context
from thalex_trio.domain.actions import Insert
from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.domain.events import TradePrint
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, BookUpdate, Ticker, Trade
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.runtime.book_check import BOOK_DOUBT_TOLERANCE_S
from thalex_trio.runtime.context import Trading
from thalex_trio.runtime.feed import run_market_feed
from thalex_trio.runtime.market_state import LocalBook
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.session import MarketEvent

if TYPE_CHECKING:
    from thalex_trio.runtime.venue import Venue

INSTRUMENT = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)
SNAPSHOT = BookUpdate(
    INSTRUMENT.name, (BookLevel(60_000, 5),), (BookLevel(60_002, 5),), (), True, 1
)
"""A two-sided book: 5 lots bid at 60000, 5 offered at 60002."""


def _trading() -> Trading:
    return Trading(INSTRUMENT, Quoter(INSTRUMENT), OrderTracker(INSTRUMENT))


CHANNEL = "book.BTC-PERPETUAL.none.10.100ms"


class ObservingVenue:
    """What the market feed reads of a venue: whether our orders show in the market's book,
    and the method it calls with each book update."""

    def __init__(self, *, orders_in_market_book: bool = True) -> None:
        self.orders_in_market_book = orders_in_market_book
        self.observed: list[BookUpdate] = []

    def observe_market(self, update: BookUpdate) -> None:
        self.observed.append(update)


def book_frame(
    bids: list[list[float]], asks: list[list[float]], time_s: float, *, snapshot: bool = False
) -> bytes:
    body = {"bid_changes": bids, "ask_changes": asks, "trades": [], "time": time_s}
    frame: dict[str, object] = {"channel_name": CHANNEL, "notification": body}
    if snapshot:
        frame["snapshot"] = True
    return orjson.dumps(frame)


async def test_an_off_grid_book_update_is_counted_and_the_next_one_applies() -> None:
    codec = ThalexCodec()
    frames = [
        book_frame([[60000, 1, 1]], [[60002, 1, 1]], 1.0, snapshot=True),
        book_frame([[60000.5, 1, 1]], [], 2.0),  # off the 1.0 tick grid: not a price we trade
        book_frame([[60001, 2, 2]], [], 3.0),
    ]
    notes = [codec.decode_frame(f) for f in frames]
    assert all(isinstance(n, ThalexNotification) for n in notes)
    ctx = make_context()
    trading = _trading()
    venue = ObservingVenue()
    send, receive = trio.open_memory_channel[ThalexNotification](len(notes))
    for note in notes:
        send.send_nowait(cast("ThalexNotification", note))
    send.close()
    # Returns once the channel is drained and closed.
    await run_market_feed(ctx, trading, cast("Venue", venue), receive, lambda _note: None)
    assert ctx.stats.bad_market_values == 1
    assert len(venue.observed) == 2
    assert trading.best_bid_ticks == 60001
    assert trading.best_ask_ticks == 60002


def _book() -> LocalBook:
    book = LocalBook(INSTRUMENT.name)
    bids = (BookLevel(60_005, 10), BookLevel(60_003, 8), BookLevel(60_000, 5))
    asks = (BookLevel(60_010, 2), BookLevel(60_012, 6))
    book.apply(BookUpdate(INSTRUMENT.name, bids, asks, (), is_snapshot=True, time_ns=1))
    return book


def test_the_top_without_our_orders_is_the_rest_of_the_market() -> None:
    book = _book()
    plain = book.top()
    assert (plain.bid, plain.ask) == (BookLevel(60_005, 10), BookLevel(60_010, 2))
    assert book.top({}, {}) == plain
    # Alone at the best bid: passed over. Sharing the best ask: the others' lots remain.
    top = book.top({60_005: 10, 59_990: 4}, {60_010: 1})
    assert (top.bid, top.ask) == (BookLevel(60_003, 8), BookLevel(60_010, 1))
    # More of ours than the level shows (its update has not come yet): passed over too.
    top = book.top({60_005: 12, 60_003: 8}, {60_010: 2, 60_012: 6})
    assert (top.bid, top.ask) == (BookLevel(60_000, 5), None)


async def _feed_one_snapshot(venue: ObservingVenue) -> Trading:
    codec = ThalexCodec()
    frame = book_frame(
        [[60005, 0.010, 0.010], [60000, 0.005, 0.005]], [[60010, 0.002, 0.002]], 1.0, snapshot=True
    )
    note = codec.decode_frame(frame)
    assert isinstance(note, ThalexNotification)
    trading = _trading()
    # Our bid of 10 lots at 60005, sent: it may be (and here is) the book's best bid.
    trading.tracker.on_sent(Insert(ClientOrderId(1), INSTRUMENT.name, Side.BUY, 60_005, 10), 0)
    send, receive = trio.open_memory_channel[ThalexNotification](1)
    send.send_nowait(note)
    send.close()
    await run_market_feed(make_context(), trading, cast("Venue", venue), receive, lambda _: None)
    return trading


async def test_live_the_feed_quotes_around_the_market_without_our_own_orders() -> None:
    trading = await _feed_one_snapshot(ObservingVenue(orders_in_market_book=True))
    assert (trading.best_bid_ticks, trading.best_ask_ticks) == (60_000, 60_010)
    assert trading.quoter.state.mid_ticks == 60_005.0


async def test_in_shadow_the_live_book_is_all_market() -> None:
    trading = await _feed_one_snapshot(ObservingVenue(orders_in_market_book=False))
    assert (trading.best_bid_ticks, trading.best_ask_ticks) == (60_005, 60_010)
    assert trading.quoter.state.mid_ticks == 60_007.5


async def test_a_ticker_that_keeps_disagreeing_with_our_book_asks_for_a_snapshot_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    trading = _trading()
    doubts: list[float] = []

    async def produce(send: trio.MemorySendChannel[MarketEvent]) -> None:
        async with send:
            await send.send(SNAPSHOT)
            # The delta that took the 60000 bid away was lost: the exchange's bid is 59999.
            for _ in range(12):
                await trio.sleep(0.5)
                await send.send(
                    Ticker(INSTRUMENT.name, 60_001.0, 60_001.0, 1, 59_999.0, 0.005, 60_002.0, 0.005)
                )

    async def watch() -> None:
        while True:
            await trading.book_doubt.wait()
            doubts.append(trio.current_time())

    send, receive = trio.open_memory_channel[MarketEvent](16)
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch)
        nursery.start_soon(produce, send)
        await run_market_feed(
            ctx, trading, cast("Venue", ObservingVenue()), receive, lambda _: None
        )
        nursery.cancel_scope.cancel()
    # The first disagreeing ticker came at 0.5 s; the doubt counts from then.
    assert [round(t - start, 1) for t in doubts] == [0.5 + BOOK_DOUBT_TOLERANCE_S]


async def test_the_index_alone_does_not_keep_market_data_fresh(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    trading = _trading()
    stamps: list[int | None] = []
    index_frame = {
        "channel_name": "price_index.BTCUSD",
        "notification": {"index_name": "BTCUSD", "price": 60001.0, "timestamp": 1.0},
    }
    index_note = ThalexCodec().decode_frame(orjson.dumps(index_frame))
    assert isinstance(index_note, ThalexNotification)

    async def produce(send: trio.MemorySendChannel[MarketEvent]) -> None:
        async with send:
            await send.send(SNAPSHOT)
            await trio.sleep(0.1)  # the feed applies it
            stamps.append(trading.last_market_data_ns)
            for _ in range(3):  # the book and ticker go silent; the index goes on
                await trio.sleep(1.0)
                await send.send(index_note)
            await trio.sleep(0.1)
            stamps.append(trading.last_market_data_ns)

    send, receive = trio.open_memory_channel[MarketEvent](16)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce, send)
        await run_market_feed(
            ctx, trading, cast("Venue", ObservingVenue()), receive, lambda _: None
        )
    assert stamps[0] is not None
    assert stamps == [stamps[0], stamps[0]]
    assert trading.index_price == 60_001.0  # applied all the same


@given(
    bids=st.dictionaries(st.integers(59_990, 60_000), st.integers(1, 9), max_size=8),
    asks=st.dictionaries(st.integers(60_001, 60_011), st.integers(1, 9), max_size=8),
    own=st.dictionaries(st.integers(59_990, 60_011), st.integers(1, 12), max_size=6),
)
def test_the_top_without_ours_is_the_best_level_left_with_something_of_others(
    bids: dict[int, int], asks: dict[int, int], own: dict[int, int]
) -> None:
    book = LocalBook(INSTRUMENT.name)
    book.apply(
        BookUpdate(
            INSTRUMENT.name,
            tuple(BookLevel(p, q) for p, q in bids.items()),
            tuple(BookLevel(p, q) for p, q in asks.items()),
            (),
            is_snapshot=True,
            time_ns=1,
        )
    )
    own_bids = {p: q for p, q in own.items() if p <= 60_000}
    own_asks = {p: q for p, q in own.items() if p > 60_000}
    others_bids = {p: q - own_bids.get(p, 0) for p, q in bids.items() if q > own_bids.get(p, 0)}
    others_asks = {p: q - own_asks.get(p, 0) for p, q in asks.items() if q > own_asks.get(p, 0)}
    top = book.top(own_bids, own_asks)
    best_bid = max(others_bids, default=None)
    best_ask = min(others_asks, default=None)
    assert top.bid == (None if best_bid is None else BookLevel(best_bid, others_bids[best_bid]))
    assert top.ask == (None if best_ask is None else BookLevel(best_ask, others_asks[best_ask]))


class TradeCountingQuoter(Quoter):
    """A quoter that also keeps the trades it was given."""

    def __init__(self, instrument: Instrument) -> None:
        super().__init__(instrument)
        self.trades: list[Trade] = []

    def on_trade(self, trade: Trade) -> None:
        self.trades.append(trade)
        super().on_trade(trade)


async def test_only_the_trades_of_deltas_are_applied() -> None:
    ctx = make_context()
    sink = RecordingSink()
    ctx.sink = sink
    quoter = TradeCountingQuoter(INSTRUMENT)
    trading = Trading(INSTRUMENT, quoter, OrderTracker(INSTRUMENT))
    old = Trade(INSTRUMENT.name, 60_001, 3, Side.BUY, 1)
    new = Trade(INSTRUMENT.name, 60_000, 2, Side.SELL, 2)
    # The snapshot after a (re)subscription repeats a trade from before it.
    snapshot = BookUpdate(INSTRUMENT.name, SNAPSHOT.bids, SNAPSHOT.asks, (old,), True, 1)
    delta = BookUpdate(INSTRUMENT.name, (BookLevel(60_000, 3),), (), (new,), False, 2)
    send, receive = trio.open_memory_channel[MarketEvent](2)
    send.send_nowait(snapshot)
    send.send_nowait(delta)
    send.close()
    await run_market_feed(ctx, trading, cast("Venue", ObservingVenue()), receive, lambda _: None)
    assert quoter.trades == [new]
    assert [e.trade for e in sink.events if isinstance(e, TradePrint)] == [new]
