"""The simulator publishes the book as an exchange does: the market's levels with the sessions'
resting orders in them (`public_depth`), while matching and the fallback mark keep the market's
own book (`depth`, `top_of_book`).

Book: bids 100..96 and asks 104..108, 10 lots per level; tick 1, lot 0.001.
"""

from __future__ import annotations

from tests.sim.book_fixture import PERP, Harness, order_report, snapshot, trade
from thalex_trio.domain.enums import Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.market import BookLevel
from thalex_trio.sim.engine.requests import CancelOrder, InsertOrder

N = PERP.name


def _harness() -> Harness:
    h = Harness()
    h.market(snapshot(h.engine.now_ns + 1, bid=100, ask=104))
    return h


def _insert(h: Harness, side: Side, price: float, amount: float, client_id: int) -> None:
    order_report(h.call(InsertOrder(N, side, amount, price, ClientOrderId(client_id))))


def test_resting_orders_join_the_published_levels_and_leave_the_market_book_alone() -> None:
    h = _harness()
    _insert(h, Side.BUY, 102.0, 0.003, 1)  # inside the spread: a level of its own
    _insert(h, Side.BUY, 99.0, 0.002, 2)  # joins a market level
    _insert(h, Side.SELL, 104.0, 0.004, 3)  # joins the best ask
    _insert(h, Side.SELL, 104.0, 0.001, 4)  # and another one there
    bids, asks = h.engine.public_depth(N, 3)
    assert bids == [BookLevel(102, 3), BookLevel(100, 10), BookLevel(99, 12)]
    assert asks == [BookLevel(104, 15), BookLevel(105, 10), BookLevel(106, 10)]
    top = h.engine.public_top_of_book(N)
    assert (top.bid, top.ask) == (BookLevel(102, 3), BookLevel(104, 15))
    market_bids, market_asks = h.engine.depth(N, 3)
    assert market_bids == [BookLevel(100, 10), BookLevel(99, 10), BookLevel(98, 10)]
    assert market_asks == [BookLevel(104, 10), BookLevel(105, 10), BookLevel(106, 10)]
    market_top = h.engine.top_of_book(N)
    assert (market_top.bid, market_top.ask) == (BookLevel(100, 10), BookLevel(104, 10))


def test_a_published_order_shows_what_is_left_of_it_and_goes_when_cancelled() -> None:
    h = _harness()
    _insert(h, Side.BUY, 102.0, 0.005, 1)
    h.market(trade(h.engine.now_ns + 1, -1, 102, 2))  # a seller takes 2 of our 5 lots
    assert h.engine.public_top_of_book(N).bid == BookLevel(102, 3)
    order_report(h.call(CancelOrder(client_order_id=ClientOrderId(1))))
    assert h.engine.public_top_of_book(N).bid == BookLevel(100, 10)
    assert h.engine.public_depth(N, 2)[0] == h.engine.depth(N, 2)[0]
