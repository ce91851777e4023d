"""Shadow mode: the simulator's market data, fills from the in-process engine, nothing sent."""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

import numpy as np
import trio
import trio.testing

from thalex_trio.domain.actions import Amend, Cancel, Insert
from thalex_trio.domain.enums import Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.market import BookLevel, BookUpdate, Trade
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.shadow_events import events_from_book_update
from thalex_trio.runtime.shadow_venue import ShadowExchange
from thalex_trio.runtime.venue import OrderNote, VenueEvent, VenueRejected
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.from_actions import request_from_action
from thalex_trio.sim.engine.params import EngineParams, Latency, QueueModel
from thalex_trio.sim.engine.reports import OrderNotice
from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    TRADE_EVENT,
    concat_events,
)
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket

from .harness import make_context, open_server, run_bot, runtime_tasks_left

ORDER_NOT_FOUND = 1
"""The exchange's error code for an order that is gone (API.md §10)."""

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.sim.events import Events

Action = Insert | Amend | Cancel
FillKey = tuple[int, str, int, int, int]  # client id, side, price ticks, lots, time ns


async def test_shadow_quotes_two_sided_and_fills_in_the_engine_sending_nothing(
    virtual_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    shadow = ShadowExchange(EngineParams())
    two_sided = 0
    sent_to_simulator = 0
    async with open_server() as server:

        async def watch() -> None:
            await trio.lowlevel.checkpoint()
            nonlocal two_sided, sent_to_simulator
            while True:
                await trio.sleep(1.0)
                sent_to_simulator += len(server.open_orders())
                if shadow.engine is None:
                    continue
                sides = {o.side for o in shadow.engine.open_orders()}
                two_sided += sides == {Side.BUY, Side.SELL}

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            code = await run_bot(server, ctx, duration_s=40.0, make_venue=shadow, logged_in=False)
            nursery.cancel_scope.cancel()
        assert code == Outcome.OK
        assert two_sided >= 20
        assert sent_to_simulator == 0
        assert server.open_orders() == []
        assert server.position().size_lots == 0
    assert ctx.stats.fills > 0
    # Shadow orders wait for the exchange's message rate, as live ones do, so an amend can
    # reach the engine after a trade it had not seen yet took the order: the engine answers
    # "order not found" (code 1), as the exchange would. Nothing else may be refused.
    assert set(ctx.stats.rejects_by_code) <= {ORDER_NOT_FOUND}
    assert ctx.trading is not None
    assert shadow.engine is not None
    position = ctx.trading.tracker.position
    assert position.size_lots == shadow.engine.position("BTC-PERPETUAL").size_lots
    assert position.fill_count == ctx.stats.fills == len(shadow.fills_since(0))
    assert shadow.engine.open_orders() == []  # the cleanup cancelled every shadow order
    assert runtime_tasks_left() == []


# -- parity: the shadow venue's engine and an engine driven directly -----------------------------

PARITY_PARAMS = EngineParams(
    queue_model=QueueModel.CONSERVATIVE,
    entry_latency=Latency(median_ns=4_000_000),
    response_latency=Latency(median_ns=3_000_000),
)
MARKET = SyntheticParams(seed=11, arrival_a_per_s=20.0, options=None)
DURATION_S = 30.0


def messages(stream: Events) -> list[Events]:
    """The stream cut into exchange messages, without reference records (the book channel
    carries levels and trades only)."""
    book = stream[
        np.isin(stream["kind"], [DEPTH_EVENT, TRADE_EVENT, DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT])
    ]
    ends = np.flatnonzero(book["flags"] & END_OF_MESSAGE_FLAG)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [book[a : b + 1] for a, b in zip(starts, ends, strict=True)]


def as_book_update(message: Events, name: str) -> BookUpdate:
    """What the simulator publishes on `book.<name>` for one message."""
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    trades: list[Trade] = []
    for r in message.tolist():
        kind, side, _flags, ts, _local, price, lots, _value = r
        if kind == TRADE_EVENT:
            trades.append(Trade(name, price, lots, Side.BUY if side > 0 else Side.SELL, ts))
        elif kind in (DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT):
            (bids if side > 0 else asks).append(BookLevel(price, lots))
    return BookUpdate(
        name,
        tuple(bids),
        tuple(asks),
        tuple(trades),
        is_snapshot=bool((message["kind"] == DEPTH_CLEAR_EVENT).any()),
        time_ns=int(message["exch_ts_ns"][-1]),
    )


def order_schedule(start_ns: int, mid_ticks: int) -> list[tuple[int, Action]]:
    """Quotes a few ticks either side of the opening mid, re-priced and cancelled over time."""
    out: list[tuple[int, Action]] = []
    cid = 0
    for k in range(int(DURATION_S) - 2):
        t = start_ns + (k + 1) * 1_000_000_000 + 250_000_000
        for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
            cid += 1
            price = mid_ticks + sign * (1 + k % 4)
            out.append((t, Insert(ClientOrderId(cid), "BTC-PERPETUAL", side, price, 2)))
            out.append((t + 300_000_000, Amend(ClientOrderId(cid), price - sign, 3)))
            out.append((t + 900_000_000, Cancel(ClientOrderId(cid))))
    return sorted(out, key=lambda item: item[0])


def fill_key(fill: Fill) -> FillKey:
    return (
        int(fill.client_order_id or 0),
        fill.side.value,
        fill.price_ticks,
        fill.amount_lots,
        fill.time_ns,
    )


def direct_fills(
    instrument: Instrument, stream: list[Events], orders: list[tuple[int, Action]]
) -> list[FillKey]:
    """The simulator's way: the stream straight into an engine, requests at their times."""
    engine = MatchingEngine([instrument], PARITY_PARAMS)
    session = engine.open_session()
    engine.set_cancel_on_disconnect(session)
    timeline = sorted(
        [(int(m["exch_ts_ns"][-1]), 0, i) for i, m in enumerate(stream)]
        + [(t, 1, i) for i, (t, _) in enumerate(orders)]
    )
    fills: list[FillKey] = []
    for t, is_order, i in timeline:
        engine.advance_to(t)
        if is_order:
            engine.submit(session, request_from_action(orders[i][1], instrument), t)
        else:
            engine.feed(instrument.name, stream[i])
            engine.advance_to(t)
    engine.advance_to(timeline[-1][0] + 1_000_000_000)
    for report in engine.drain_reports():
        if isinstance(report, OrderNotice):
            fills += [fill_key(f) for f in report.report.update.fills]
    return fills


async def shadow_fills(
    instrument: Instrument, stream: list[Events], orders: list[tuple[int, Action]]
) -> list[FillKey]:
    """The shadow venue's way: book updates as the feed sees them, actions through `execute`,
    fills from the order events it reports; Trio time runs with the stream's time."""
    shadow = ShadowExchange(PARITY_PARAMS)
    venue = shadow(None, instrument)
    start_ns = int(stream[0]["exch_ts_ns"][0])
    start_s = trio.current_time()
    timeline = sorted(
        [(int(m["exch_ts_ns"][-1]), 0, i) for i, m in enumerate(stream)]
        + [(t, 1, i) for i, (t, _) in enumerate(orders)]
    )
    fills: list[FillKey] = []
    send, receive = trio.open_memory_channel[VenueEvent](1024)

    async def collect() -> None:
        async with receive:
            async for event in receive:
                if isinstance(event, OrderNote):
                    fills.extend(fill_key(f) for f in event.update.fills)

    async def execute(action: Action) -> None:
        try:
            await venue.execute(action)
        except VenueRejected:  # amending or cancelling an order that already filled
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(collect)
        await nursery.start(venue.run, send)
        for t, is_order, i in timeline:
            await trio.sleep_until(start_s + (t - start_ns) / 1e9)
            if is_order:
                nursery.start_soon(execute, orders[i][1])
            else:
                venue.observe_market(as_book_update(stream[i], instrument.name))
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    return fills


async def test_shadow_fills_match_an_engine_driven_directly(
    virtual_clock: trio.testing.MockClock,
) -> None:
    market = SyntheticMarket(MARKET)
    instrument = market.instrument()
    stream = messages(concat_events(list(market.chunks(DURATION_S))))
    first = stream[0]
    bids = first[(first["side"] > 0) & (first["kind"] == DEPTH_SNAPSHOT_EVENT)]["price_ticks"]
    asks = first[(first["side"] < 0) & (first["kind"] == DEPTH_SNAPSHOT_EVENT)]["price_ticks"]
    mid = (int(bids.max()) + int(asks.min())) // 2
    orders = order_schedule(int(first["exch_ts_ns"][0]), mid)

    expected = direct_fills(instrument, stream, orders)
    got = await shadow_fills(instrument, stream, orders)

    assert len(expected) >= 10  # the schedule trades, so the comparison means something
    assert collections.Counter(got) == collections.Counter(expected)
    assert got == expected


def test_book_updates_become_one_engine_message_each() -> None:
    name = "BTC-PERPETUAL"
    snapshot = BookUpdate(
        name, (BookLevel(99, 5),), (BookLevel(101, 7),), (), is_snapshot=True, time_ns=1_000
    )
    events = events_from_book_update(snapshot, floor_ns=0)
    assert events["kind"].tolist() == [
        DEPTH_CLEAR_EVENT,
        DEPTH_SNAPSHOT_EVENT,
        DEPTH_SNAPSHOT_EVENT,
    ]
    assert events["flags"].tolist() == [0, 0, END_OF_MESSAGE_FLAG]
    delta = BookUpdate(
        name,
        (BookLevel(99, 0),),
        (),
        (Trade(name, 99, 5, Side.SELL, 900),),
        is_snapshot=False,
        time_ns=2_000,
    )
    # Trades first (they caused the level change); nothing goes below what was applied.
    events = events_from_book_update(delta, floor_ns=1_500)
    assert events["kind"].tolist() == [TRADE_EVENT, DEPTH_EVENT]
    assert events["side"].tolist() == [-1, 1]
    assert events["exch_ts_ns"].tolist() == [1_500, 2_000]
    assert events["flags"].tolist() == [0, END_OF_MESSAGE_FLAG]
    empty = BookUpdate(name, (), (), (), is_snapshot=False, time_ns=3_000)
    assert events_from_book_update(empty, floor_ns=0).shape[0] == 0
