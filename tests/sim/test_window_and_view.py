"""The book window, the receiver's view of the feed, and stopping at our reports.

- Where the caller cuts time into `advance_to` steps does not change the book: the kernel
  recentres its window at fixed points of the stream (after the depth event that moved the
  touch), so a simulator stepping at arbitrary times and a backtest agree.
- An empty book (after a clear) moves its window to where the next level is.
- `FeedView` samples the same book on the events' local times.
- `advance_to(..., until_report_ns=...)` stops right after what produced a report due by then.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.sim.book_fixture import PERP, T0, Harness, events, snapshot
from thalex_trio.domain.enums import Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.params import EngineParams, Latency
from thalex_trio.sim.engine.reports import OrderNotice
from thalex_trio.sim.engine.requests import InsertOrder
from thalex_trio.sim.engine.view import NO_ASK_TICKS, NO_BID_TICKS, FeedView
from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    TRADE_EVENT,
    Events,
)

WINDOW = 64  # ticks: the path below walks far outside it


def _walk(steps: list[int]) -> Events:
    """A two-sided book whose touch walks by `steps` ticks, one message per step."""
    rows = [(DEPTH_CLEAR_EVENT, 0, T0, 0, 0)]
    bid = 1000
    rows += [(DEPTH_SNAPSHOT_EVENT, 1, T0, bid - i, 5) for i in range(3)]
    rows += [(DEPTH_SNAPSHOT_EVENT, -1, T0, bid + 1 + i, 5) for i in range(3)]
    t = T0
    for step in steps:
        t += 1_000
        new = bid + step
        if step > 0:  # asks up to the new bid go, the new bid and ask levels come
            rows += [(DEPTH_EVENT, -1, t, p, 0) for p in range(bid + 1, new + 2)]
            rows += [(DEPTH_EVENT, 1, t, new, 5), (DEPTH_EVENT, -1, t, new + 1, 5)]
        elif step < 0:
            rows += [(DEPTH_EVENT, 1, t, p, 0) for p in range(new, bid + 1)]
            rows += [(DEPTH_EVENT, -1, t, new + 1, 5), (DEPTH_EVENT, 1, t, new, 5)]
        bid = new
    return events(rows)


def _engine() -> MatchingEngine:
    return MatchingEngine([PERP], EngineParams(book_window_ticks=WINDOW))


def _state(engine: MatchingEngine) -> tuple[object, ...]:
    bids, asks = engine.depth(PERP.name, 1000)
    return (
        engine.top_of_book(PERP.name).bid,
        engine.top_of_book(PERP.name).ask,
        tuple(bids),
        tuple(asks),
        engine.stats(PERP.name)["out_of_window"],
    )


@given(
    # Moves smaller than the recentring margin (64 / 8 ticks): the window never drops the touch.
    steps=st.lists(st.integers(-7, 7), min_size=5, max_size=60),
    cuts=st.lists(st.integers(0, 60_000), max_size=12),
)
def test_the_book_does_not_depend_on_how_time_is_stepped(steps: list[int], cuts: list[int]) -> None:
    stream = _walk(steps)
    end = int(stream["exch_ts_ns"][-1])
    whole = _engine()
    whole.feed(PERP.name, stream)
    whole.advance_to(end)
    stepped = _engine()
    stepped.feed(PERP.name, stream)
    for cut in sorted(cuts):
        stepped.advance_to(T0 + cut)
    stepped.advance_to(end)
    assert _state(stepped) == _state(whole)
    # The touch may move up to 420 ticks in a 64-tick window: the window followed it.
    top = whole.top_of_book(PERP.name)
    assert top.bid is not None
    assert top.bid.price_ticks == 1000 + sum(steps)


def test_an_empty_book_moves_to_the_next_level() -> None:
    engine = _engine()
    engine.feed(PERP.name, snapshot(T0, bid=100, ask=101))
    far = events(
        [
            (DEPTH_CLEAR_EVENT, 0, T0 + 10, 0, 0),
            (DEPTH_SNAPSHOT_EVENT, 1, T0 + 10, 50_000, 3),
            (DEPTH_SNAPSHOT_EVENT, -1, T0 + 10, 50_002, 4),
        ]
    )
    engine.feed(PERP.name, far)
    engine.advance_to(T0 + 10)
    top = engine.top_of_book(PERP.name)
    assert top.bid is not None
    assert top.ask is not None
    assert (top.bid.price_ticks, top.ask.price_ticks) == (50_000, 50_002)
    assert engine.stats(PERP.name)["out_of_window"] == 0


def test_feed_view_samples_the_book_on_local_time() -> None:
    latency_ns = 500
    stream = _walk([1, 1, -3, 2, 0, 5])
    stream["local_ts_ns"] = stream["exch_ts_ns"] + latency_ns
    view = FeedView(WINDOW)
    view.feed(stream)
    engine = _engine()
    engine.feed(PERP.name, stream)
    times = np.arange(T0 + latency_ns, T0 + 6_000, 700, dtype=np.int64)
    samples = view.sample(times)
    for i, t in enumerate(times.tolist()):
        engine.advance_to(t - latency_ns)  # the exchange's book as it was when sent
        top = engine.top_of_book(PERP.name)
        assert top.bid is not None
        assert top.ask is not None
        assert int(samples.bid_ticks[i]) == top.bid.price_ticks
        assert int(samples.bid_lots[i]) == top.bid.amount_lots
        assert int(samples.ask_ticks[i]) == top.ask.price_ticks
        last = stream["local_ts_ns"][stream["local_ts_ns"] <= t]
        assert int(samples.last_event_ns[i]) == int(last[-1])
    assert np.isnan(samples.mark).all()


def test_feed_view_before_any_book_and_past_the_data() -> None:
    stream = _walk([1])
    view = FeedView(WINDOW)
    view.feed(stream)
    before = view.sample(np.array([T0 - 1], dtype=np.int64))
    assert int(before.bid_ticks[0]) == NO_BID_TICKS
    assert int(before.ask_ticks[0]) == NO_ASK_TICKS
    with pytest.raises(ValueError, match="not before the last event fed"):
        view.sample(np.array([int(stream["local_ts_ns"][-1])], dtype=np.int64))


def test_advance_stops_at_a_report_due_in_time() -> None:
    params = EngineParams(book_window_ticks=4096, response_latency=Latency(median_ns=300))
    h = Harness(params)
    engine = h.engine
    insert = InsertOrder(PERP.name, Side.BUY, 0.001, 100.0, ClientOrderId(1))
    engine.submit(h.session, insert, engine.now_ns)
    engine.advance_to(engine.now_ns)
    engine.advance_to(engine.now_ns + 300)
    engine.drain_reports()
    fill_ns = T0 + 5_000
    engine.feed(PERP.name, events([(TRADE_EVENT, -1, fill_ns, 99, 20)]))
    # The fill's notice is due at fill_ns + 300: the engine stops right after the fill.
    assert engine.advance_to(T0 + 10_000, until_report_ns=fill_ns + 300) is False
    assert engine.now_ns == fill_ns
    assert engine.next_report_ns() == fill_ns + 300
    assert engine.advance_to(T0 + 10_000) is True
    assert engine.now_ns == T0 + 10_000
    notices = [r for r in engine.drain_reports() if isinstance(r, OrderNotice)]
    assert [f.time_ns for n in notices for f in n.report.update.fills] == [fill_ns]


def test_advance_runs_through_reports_due_later() -> None:
    params = EngineParams(book_window_ticks=4096, response_latency=Latency(median_ns=300))
    h = Harness(params)
    engine = h.engine
    engine.submit(h.session, InsertOrder(PERP.name, Side.BUY, 0.001, 100.0), engine.now_ns)
    engine.advance_to(engine.now_ns + 300)
    engine.drain_reports()
    fill_ns = T0 + 5_000
    engine.feed(PERP.name, events([(TRADE_EVENT, -1, fill_ns, 99, 20)]))
    # Due at fill_ns + 300, after the stop bound: nothing to stop for.
    assert engine.advance_to(T0 + 10_000, until_report_ns=fill_ns + 299) is True
    assert engine.now_ns == T0 + 10_000


@given(
    levels=st.lists(
        st.tuples(st.sampled_from([1, -1]), st.integers(-40, 40), st.integers(0, 9)),
        max_size=80,
    ),
    n_levels=st.integers(0, 12),
)
def test_depth_lists_the_displayed_levels_best_first(
    levels: list[tuple[int, int, int]], n_levels: int
) -> None:
    """`depth` walks out from the best level and lists what the updates left displayed."""
    rows = [
        (DEPTH_EVENT, side, T0 + n, 1_000 + offset, lots)
        for n, (side, offset, lots) in enumerate(levels)
    ]
    engine = MatchingEngine([PERP], EngineParams(book_window_ticks=1_024))  # holds them all
    engine.feed(PERP.name, events(rows))
    engine.advance_to(T0 + len(rows) + 1)
    shown: dict[tuple[int, int], int] = {}
    for _, side, _, price, lots in rows:
        shown[side, price] = lots
    expected_bids = sorted(
        ((p, q) for (side, p), q in shown.items() if side == 1 and q), reverse=True
    )
    expected_asks = sorted((p, q) for (side, p), q in shown.items() if side == -1 and q)
    bids, asks = engine.depth(PERP.name, n_levels)
    assert [(q.price_ticks, q.amount_lots) for q in bids] == expected_bids[:n_levels]
    assert [(q.price_ticks, q.amount_lots) for q in asks] == expected_asks[:n_levels]
