"""Public market-data channels: snapshots on subscribe, then updates throttled to the channel's
delay (API.md §9). Each update is encoded once and the same bytes go to every subscriber.

Book updates carry absolute level sizes (0 removes a level), so a subscriber that joined with
a newer snapshot can apply a shared update safely. Ticker, lwt and index are sent when they
change; book updates when levels changed or trades printed. As on the real exchange, the
published book, ticker and lwt hold the sessions' resting orders beside the market's
(`MatchingEngine.public_depth`), so a client sees its own quotes in them.

Listed options (options.py) have instruments and tickers only: no book, lwt or trades.
"""

from __future__ import annotations

import collections
import math
from typing import TYPE_CHECKING, Protocol

from attrs import define, field, frozen

from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.sim.engine.exchange import product_of
from thalex_trio.sim.server.clock import wire_time_s
from thalex_trio.sim.server.translate import instrument_wire
from thalex_trio.thalex.channels import Channel, ChannelKind, Delay, UnknownChannel, parse_channel
from thalex_trio.thalex.wire_market import (
    ThalexBook,
    ThalexBookLevel,
    ThalexBookPayload,
    ThalexBookTrade,
    ThalexIndex,
    ThalexInstrumentChange,
    ThalexInstrumentsPayload,
    ThalexLwt,
    ThalexRecentTrade,
    ThalexRecentTrades,
    ThalexTicker,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.sim.engine.engine import MatchingEngine
    from thalex_trio.sim.server.market_feed import TapePrint
    from thalex_trio.sim.server.options import OptionChain
    from thalex_trio.thalex.codec import ThalexCodec
    from thalex_trio.thalex.frames import NotificationPayload
    from thalex_trio.thalex.wire_market import ThalexInstrument

RECENT_TRADES_KEPT = 200
"""Trades remembered for `recent_trades` snapshots and the `last_price`."""

RECENT_TRADES_SNAPSHOT = 20
"""Trades in a `recent_trades` snapshot."""

PUBLIC_BOOK_LEVELS = 5
"""Levels per side of `public/book`."""

MAX_BOOK_LEVELS = 1000
"""Depth served for `book.*.all`."""

_DELAY_S = {
    Delay.MS100: 0.1,
    Delay.MS200: 0.2,
    Delay.MS500: 0.5,
    Delay.MS1000: 1.0,
    Delay.MS5000: 5.0,
    Delay.MS60000: 60.0,
    Delay.RAW: 0.0,
}


class Subscriber(Protocol):
    """A connection that takes encoded notification frames."""

    def send_notification(self, frame: bytes) -> None:
        """Queue one notification frame (never blocks)."""


@frozen
class TapeTrade:
    """A print on the public tape, numbered in the order it joined: `seq` tells a subscriber
    which prints it has been sent. Aggressor side +1 buy / -1 sell."""

    seq: int
    time_ns: int
    price_ticks: int
    amount_lots: int
    side: int


@define(eq=False)
class _Feed:
    """One subscribed channel name: its subscribers, throttle and last sent state."""

    channel: Channel
    delay_s: float
    nlevels: int = 0
    subscribers: set[Subscriber] = field(factory=set)
    next_due_s: float = 0.0
    last_payload: object = None
    bids: dict[int, int] = field(factory=dict)
    asks: dict[int, int] = field(factory=dict)
    trade_seq: int = 0


class MarketPublisher:
    """All public channel state of the server."""

    def __init__(
        self,
        engine: MatchingEngine,
        codec: ThalexCodec,
        instruments: dict[str, Instrument],
        options: OptionChain | None = None,
    ) -> None:
        self._engine = engine
        self._codec = codec
        self._instruments = instruments
        self._options = options
        self._underlyings = {i.underlying for i in instruments.values()}
        self._feeds: dict[str, _Feed] = {}
        self.tape: collections.deque[tuple[str, TapeTrade]] = collections.deque(
            maxlen=RECENT_TRADES_KEPT
        )
        self._printed = 0
        self.volume_lots: dict[str, int] = collections.Counter()
        self._marks: dict[str, tuple[float, int]] = {}  # mark and the engine ns it was first seen

    # -- subscriptions -----------------------------------------------------------------------

    def accepts(self, name: str) -> Channel | None:
        """The parsed channel if this server can serve it, else None (left out of the result)."""
        try:
            channel = parse_channel(name)
        except UnknownChannel:
            return None
        subject = channel.subject
        match channel.kind:
            case ChannelKind.BOOK:
                parts = name.split(".")
                grouping, nlevels = ".".join(parts[2:-2]), parts[-2]
                ok = grouping == "none" and (nlevels == "all" or nlevels.isdigit())
                return channel if ok and subject in self._instruments else None
            case ChannelKind.TICKER:
                return channel if self.lists(subject) else None
            case ChannelKind.LWT:
                return channel if subject in self._instruments else None
            case ChannelKind.RECENT_TRADES:
                category = name.rsplit(".", 1)[1]
                single = category == "single" and subject in self._instruments
                return channel if single or subject in self._underlyings else None
            case ChannelKind.PRICE_INDEX:
                return channel if subject in self._underlyings else None
            case ChannelKind.INSTRUMENTS | ChannelKind.SYSTEM:
                return channel
            case _:
                return None

    def subscribe(self, who: Subscriber, channel: Channel, now_s: float) -> None:
        """Add a subscriber and send it the channel's snapshot or current value."""
        feed = self._feeds.get(channel.name)
        if feed is None:
            delay = channel.name.rsplit(".", 1)[-1]
            delay_s = _DELAY_S.get(Delay(delay), 0.0) if delay in _DELAYS else 0.0
            feed = _Feed(channel, delay_s)
            if channel.kind is ChannelKind.BOOK:
                nlevels = channel.name.split(".")[-2]
                feed.nlevels = MAX_BOOK_LEVELS if nlevels == "all" else int(nlevels)
                feed.bids, feed.asks = self._levels(channel, feed.nlevels)
                feed.trade_seq = self._last_trade_seq()
            self._feeds[channel.name] = feed
        feed.subscribers.add(who)
        snapshot = self._snapshot(feed, now_s)
        if snapshot is not None:
            payload, is_snapshot = snapshot
            who.send_notification(
                self._codec.encode_notification(channel.name, payload, snapshot=is_snapshot)
            )

    def unsubscribe(self, who: Subscriber, name: str) -> None:
        """Remove a subscriber; a channel nobody follows is forgotten."""
        feed = self._feeds.get(name)
        if feed is None:
            return
        feed.subscribers.discard(who)
        if not feed.subscribers:
            del self._feeds[name]

    def subscribers(self, name: str) -> frozenset[Subscriber]:
        """Who follows channel `name` now."""
        feed = self._feeds.get(name)
        return frozenset(feed.subscribers) if feed else frozenset()

    # -- the periodic update -----------------------------------------------------------------

    def on_trades(self, instrument_name: str, prints: Iterable[TapePrint]) -> None:
        """Put trades on the tape: the market's prints, and our fills (the exchange prints
        every trade, ours included)."""
        for p in prints:
            self._printed += 1
            trade = TapeTrade(self._printed, p.time_ns, p.price_ticks, p.amount_lots, p.side)
            self.tape.append((instrument_name, trade))
            self.volume_lots[instrument_name] += trade.amount_lots

    def publish(self, now_s: float) -> None:
        """Send every due channel whose content changed, and a change of the listed options
        at once."""
        for name in self._instruments:
            self._note_mark(name)
        if self._options is not None:
            self._roll_options(self._options)
        for feed in list(self._feeds.values()):
            if now_s < feed.next_due_s:
                continue
            update = self._update(feed, now_s)
            if update is None:
                continue
            feed.next_due_s = now_s + feed.delay_s
            frame = self._codec.encode_notification(feed.channel.name, update)
            for who in list(feed.subscribers):
                who.send_notification(frame)

    def _roll_options(self, options: OptionChain) -> None:
        """Delist expired options and list new expiries (`OptionChain.roll`), telling every
        `instruments` subscriber: removals first, then additions (API.md §9.3)."""
        refs = self.mark_index(options.forward_of)
        if refs is None:
            return  # no forward yet to centre new strikes on: the roll waits for one
        change = options.roll(self._engine.now_ns, refs[0])
        if not change:
            return
        items = tuple(
            ThalexInstrumentChange(removed=instrument_wire(i, product_of(i)))
            for i in change.removed
        ) + tuple(
            ThalexInstrumentChange(added=instrument_wire(i, product_of(i))) for i in change.added
        )
        payload = ThalexInstrumentsPayload(items)
        for feed in list(self._feeds.values()):
            if feed.channel.kind is ChannelKind.INSTRUMENTS:
                frame = self._codec.encode_notification(feed.channel.name, payload)
                for who in list(feed.subscribers):
                    who.send_notification(frame)

    def _update(self, feed: _Feed, now_s: float) -> NotificationPayload | None:
        channel = feed.channel
        match channel.kind:
            case ChannelKind.BOOK:
                return self._book_update(feed)
            case ChannelKind.TICKER | ChannelKind.LWT | ChannelKind.PRICE_INDEX:
                payload = self._current(channel)
                if payload is None or payload == feed.last_payload:
                    return None
                feed.last_payload = payload
                return payload
            case ChannelKind.RECENT_TRADES:
                rows = self._recent(channel, after_seq=feed.trade_seq)
                if not rows:
                    return None
                feed.trade_seq = self._last_trade_seq()
                return ThalexRecentTrades(tuple(rows))
            case _:
                return None

    # -- payloads ----------------------------------------------------------------------------

    def _snapshot(self, feed: _Feed, now_s: float) -> tuple[NotificationPayload, bool] | None:
        channel = feed.channel
        match channel.kind:
            case ChannelKind.BOOK:
                bids, asks = self._levels(channel, feed.nlevels)
                return self._book_payload(channel, bids, asks, (), {}, {}), True
            case ChannelKind.TICKER | ChannelKind.LWT | ChannelKind.PRICE_INDEX:
                payload = self._current(channel)
                feed.last_payload = payload
                return None if payload is None else (payload, False)
            case ChannelKind.RECENT_TRADES:
                rows = self._recent(channel, after_seq=0)[-RECENT_TRADES_SNAPSHOT:]
                feed.trade_seq = self._last_trade_seq()
                return ThalexRecentTrades(tuple(rows)), True
            case ChannelKind.INSTRUMENTS:
                items = tuple(ThalexInstrumentChange(added=i) for i in self.instrument_wires())
                return ThalexInstrumentsPayload(items), True
            case _:
                return None

    def _levels(self, channel: Channel, nlevels: int) -> tuple[dict[int, int], dict[int, int]]:
        assert channel.subject is not None
        bids, asks = self._engine.public_depth(channel.subject, nlevels)
        return (
            {lv.price_ticks: lv.amount_lots for lv in bids},
            {lv.price_ticks: lv.amount_lots for lv in asks},
        )

    def _book_update(self, feed: _Feed) -> ThalexBookPayload | None:
        channel = feed.channel
        assert channel.subject is not None
        bids, asks = self._levels(channel, feed.nlevels)
        trades = tuple(t for n, t in self.tape if n == channel.subject and t.seq > feed.trade_seq)
        if bids == feed.bids and asks == feed.asks and not trades:
            return None
        payload = self._book_payload(channel, bids, asks, trades, feed.bids, feed.asks)
        feed.bids, feed.asks = bids, asks
        if trades:
            feed.trade_seq = trades[-1].seq
        return payload

    def _book_payload(
        self,
        channel: Channel,
        bids: dict[int, int],
        asks: dict[int, int],
        trades: tuple[TapeTrade, ...],
        old_bids: dict[int, int],
        old_asks: dict[int, int],
    ) -> ThalexBookPayload:
        assert channel.subject is not None
        inst = self._instruments[channel.subject]

        def changes(
            new: dict[int, int], old: dict[int, int], best_first: int
        ) -> tuple[ThalexBookLevel, ...]:
            levels = {p: q for p, q in new.items() if old.get(p) != q}
            levels.update({p: 0 for p in old if p not in new})
            return tuple(
                ThalexBookLevel(inst.ticks_to_price(p), amount, amount)
                for p in sorted(levels, key=lambda p: -best_first * p)
                for amount in (inst.lots_to_amount(levels[p]),)
            )

        return ThalexBookPayload(
            time=wire_time_s(self._engine.now_ns),
            trades=tuple(
                ThalexBookTrade(
                    inst.ticks_to_price(t.price_ticks),
                    inst.lots_to_amount(t.amount_lots),
                    Side.BUY if t.side > 0 else Side.SELL,
                    wire_time_s(t.time_ns),
                    False,
                )
                for t in trades
            ),
            bid_changes=changes(bids, old_bids, 1),
            ask_changes=changes(asks, old_asks, -1),
            total_bid_amount=inst.lots_to_amount(sum(bids.values())),
            total_ask_amount=inst.lots_to_amount(sum(asks.values())),
        )

    def _last_trade_seq(self) -> int:
        return self.tape[-1][1].seq if self.tape else 0

    def _recent(self, channel: Channel, after_seq: int) -> list[ThalexRecentTrade]:
        rows = []
        for name, t in self.tape:
            if t.seq <= after_seq:
                continue
            if name != channel.subject and self._instruments[name].underlying != channel.subject:
                continue
            inst = self._instruments[name]
            rows.append(
                ThalexRecentTrade(
                    inst.ticks_to_price(t.price_ticks),
                    inst.lots_to_amount(t.amount_lots),
                    Side.BUY if t.side > 0 else Side.SELL,
                    wire_time_s(t.time_ns),
                    name,
                    False,
                )
            )
        return rows

    def last_price(self, instrument_name: str) -> float | None:
        """The last public trade price, None before the first trade."""
        for name, t in reversed(self.tape):
            if name == instrument_name:
                return self._instruments[name].ticks_to_price(t.price_ticks)
        return None

    def mid(self, instrument_name: str) -> float | None:
        """Mid of the market's book (without the sessions' orders, which must not move the
        fallback mark), None when a side is empty."""
        top = self._engine.top_of_book(instrument_name)
        if top.bid is None or top.ask is None:
            return None
        inst = self._instruments[instrument_name]
        return inst.ticks_to_price(top.bid.price_ticks + top.ask.price_ticks) / 2

    def mark_index(self, instrument_name: str) -> tuple[float, float] | None:
        """(mark, index), falling back to the mid before the feed sent references."""
        mark, index, _ = self._engine.reference(instrument_name)
        if math.isnan(mark):
            mid = self.mid(instrument_name)
            if mid is None:
                return None
            mark = mid
        return mark, mark if math.isnan(index) else index

    def _current(self, channel: Channel) -> ThalexTicker | ThalexLwt | ThalexIndex | None:
        if channel.kind is ChannelKind.PRICE_INDEX:
            assert channel.subject is not None
            return self.index(channel.subject)
        assert channel.subject is not None
        if not self.lists(channel.subject):
            return None  # an option delisted since the subscription: nothing more to say
        if channel.kind is ChannelKind.TICKER:
            return self.ticker(channel.subject)
        return self.lwt(channel.subject)

    def _note_mark(self, name: str) -> None:
        """Remember when the feed's mark of `name` last changed (its `mark_timestamp`)."""
        mark = self._engine.reference(name)[0]
        if not math.isnan(mark) and self._marks.get(name, (math.nan, 0))[0] != mark:
            self._marks[name] = (mark, self._engine.now_ns)

    # -- listed instruments ------------------------------------------------------------------

    def lists(self, name: str | None) -> bool:
        """True for a traded instrument or a listed option."""
        return name in self._instruments or (self._options is not None and name in self._options)

    def instrument_wires(self) -> list[ThalexInstrument]:
        """Every listed instrument as `public/instruments` describes it, options last."""
        names = list(self._instruments)
        if self._options is not None:
            names += self._options.instruments
        return [wire for name in names if (wire := self.instrument_wire(name)) is not None]

    def instrument_wire(self, name: str) -> ThalexInstrument | None:
        """One listed instrument, None if unknown."""
        if name in self._instruments:
            return instrument_wire(self._instruments[name], self._engine.product(name))
        if self._options is not None and name in self._options:
            option = self._options.instruments[name]
            assert option.product is not None  # set by `options.listed_chain`
            return instrument_wire(option, option.product)
        return None

    def option_ticker(self, name: str) -> ThalexTicker | None:
        """A listed option's Black-76 ticker, marked when the perpetual's mark last changed
        (engine time before its first mark), on that mark; None before any price is known."""
        assert self._options is not None
        perpetual = self._options.forward_of
        refs = self.mark_index(perpetual)
        if refs is None:
            return None
        # Noted here too: a `public/ticker` between two publishes sees the engine's new mark.
        self._note_mark(perpetual)
        seen = self._marks.get(perpetual)
        mark_time_ns = self._engine.now_ns if seen is None else seen[1]
        return self._options.ticker(name, refs[0], refs[1], mark_time_ns)

    def ticker(self, instrument_name: str) -> ThalexTicker | None:
        """`Ticker` of an instrument (None before any price is known)."""
        if self._options is not None and instrument_name in self._options:
            return self.option_ticker(instrument_name)
        refs = self.mark_index(instrument_name)
        if refs is None:
            return None
        mark, index = refs
        inst = self._instruments[instrument_name]
        top = self._engine.public_top_of_book(instrument_name)
        perp = inst.kind is InstrumentKind.PERPETUAL
        funding = self._engine.reference(instrument_name)[2]
        collar = self._engine.collar_ticks(instrument_name)
        return ThalexTicker(
            mark_price=mark,
            mark_timestamp=wire_time_s(self._marks.get(instrument_name, (0.0, 0))[1]),
            delta=1.0,
            index=index,
            best_bid_price=None if top.bid is None else inst.ticks_to_price(top.bid.price_ticks),
            best_bid_amount=None if top.bid is None else inst.lots_to_amount(top.bid.amount_lots),
            best_ask_price=None if top.ask is None else inst.ticks_to_price(top.ask.price_ticks),
            best_ask_amount=None if top.ask is None else inst.lots_to_amount(top.ask.amount_lots),
            last_price=self.last_price(instrument_name),
            volume_24h=inst.lots_to_amount(self.volume_lots[instrument_name]),
            collar_low=None if collar is None else inst.ticks_to_price(collar[0]),
            collar_high=None if collar is None else inst.ticks_to_price(collar[1]),
            funding_rate=funding if perp and not math.isnan(funding) else None,
        )

    def lwt(self, instrument_name: str) -> ThalexLwt | None:
        """The lightweight ticker (`b`/`a` only when that side exists)."""
        refs = self.mark_index(instrument_name)
        if refs is None:
            return None
        inst = self._instruments[instrument_name]
        top = self._engine.public_top_of_book(instrument_name)

        def level(price_ticks: int, lots: int) -> ThalexBookLevel:
            amount = inst.lots_to_amount(lots)
            return ThalexBookLevel(inst.ticks_to_price(price_ticks), amount, amount)

        return ThalexLwt(
            mark_price=refs[0],
            best_bid=None if top.bid is None else level(top.bid.price_ticks, top.bid.amount_lots),
            best_ask=None if top.ask is None else level(top.ask.price_ticks, top.ask.amount_lots),
            last_price=self.last_price(instrument_name),
        )

    def index(self, underlying: str) -> ThalexIndex | None:
        """`Index` of an underlying, from its first instrument's feed."""
        for name, inst in self._instruments.items():
            if inst.underlying == underlying:
                refs = self.mark_index(name)
                if refs is None:
                    return None
                stamp = wire_time_s(self._marks.get(name, (0.0, self._engine.now_ns))[1])
                return ThalexIndex(underlying, refs[1], stamp)
        return None

    def book(self, instrument_name: str) -> ThalexBook:
        """`public/book`: 5 levels a side."""
        inst = self._instruments[instrument_name]
        bids, asks = self._engine.public_depth(instrument_name, PUBLIC_BOOK_LEVELS)

        def row(price_ticks: int, lots: int) -> ThalexBookLevel:
            amount = inst.lots_to_amount(lots)
            return ThalexBookLevel(inst.ticks_to_price(price_ticks), amount, amount)

        return ThalexBook(
            bids=tuple(row(lv.price_ticks, lv.amount_lots) for lv in bids),
            asks=tuple(row(lv.price_ticks, lv.amount_lots) for lv in asks),
            time=wire_time_s(self._engine.now_ns),
            last=self.last_price(instrument_name),
        )


_DELAYS = frozenset(d.value for d in Delay)
