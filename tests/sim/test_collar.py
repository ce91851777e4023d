"""Price collars (API.md §5.2): limit orders beyond the collar are rejected by default, market
orders clamped to it, amends rejected, mass quotes exempt; no collar before the first mark.

Book: bids 100..96 and asks 101..105, 10 lots (0.01) per level; tick 1, lot 0.001. With the mark
at 100.5 and a 2% collar, bids above 102 and asks below 99 are beyond it.
"""

from __future__ import annotations

import pytest

from tests.sim.book_fixture import PERP, T0, Harness, events, order_report
from thalex_trio.domain.enums import Collar, OrderStatus, OrderType, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.engine.reports import MassQuoteResult
from thalex_trio.sim.engine.requests import (
    AmendOrder,
    InsertOrder,
    MassQuote,
    QuoteLevel,
    SetMMProtection,
    SideQuotes,
)
from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    END_OF_MESSAGE_FLAG,
    MARK_EVENT,
    empty_events,
)

N = PERP.name
C1 = ClientOrderId(1)
COLLAR_LOW, COLLAR_HIGH = 99, 102  # ceil(100.5 * 0.98), floor(100.5 * 1.02)


def collared(*, mark: float | None = 100.5) -> Harness:
    """A harness whose engine has a 2% collar and, unless `mark` is None, a mark."""
    h = Harness(EngineParams(book_window_ticks=4096, collar_fraction=0.02))
    if mark is not None:
        evs = empty_events(1)
        evs[0] = (MARK_EVENT, 0, END_OF_MESSAGE_FLAG, T0 + 1, T0 + 1, 0, 0, mark)
        h.market(evs)
    return h


def insert(
    side: Side,
    amount: float,
    price: float | None = None,
    collar: Collar | None = None,
) -> InsertOrder:
    market = price is None
    return InsertOrder(
        N,
        side,
        amount,
        price,
        client_order_id=C1,
        order_type=OrderType.MARKET if market else OrderType.LIMIT,
        collar=collar,
    )


def error_code(h: Harness, request: InsertOrder | AmendOrder) -> int | None:
    err = h.call(request).error
    return None if err is None else int(err.code)


def test_collar_is_the_fraction_around_the_mark() -> None:
    assert collared().engine.collar_ticks(N) == (COLLAR_LOW, COLLAR_HIGH)
    assert collared(mark=110.0).engine.collar_ticks(N) == (108, 112)
    assert Harness().engine.collar_ticks(N) is None  # no fraction configured


def test_before_the_first_mark_the_collar_centres_on_the_mid() -> None:
    h = collared(mark=None)
    assert h.engine.collar_ticks(N) == (COLLAR_LOW, COLLAR_HIGH)  # mid 100.5
    h.market(events([(DEPTH_CLEAR_EVENT, 0, T0 + 2, 0, 0)]))
    assert h.engine.collar_ticks(N) is None  # nothing to centre it on
    report = order_report(h.call(insert(Side.BUY, 0.001, 150)))
    assert report.update.status is OrderStatus.OPEN  # accepted, unchecked


@pytest.mark.parametrize(
    ("side", "beyond", "at"), [(Side.BUY, COLLAR_HIGH + 1, COLLAR_HIGH), (Side.SELL, 98, 99)]
)
def test_limit_order_beyond_the_collar_is_rejected_by_default(
    side: Side, beyond: int, at: int
) -> None:
    h = collared()
    assert error_code(h, insert(side, 0.001, beyond)) == 43  # PriceCollarBreach
    assert h.engine.open_orders() == []
    assert not h.notices()  # refused early: no order was created
    report = order_report(h.call(insert(side, 0.001, at)))  # at the collar itself: accepted
    assert report.update.status is OrderStatus.FILLED


def test_clamp_moves_a_limit_price_to_the_collar() -> None:
    h = collared()
    report = order_report(h.call(insert(Side.BUY, 0.025, 104, Collar.CLAMP)))
    assert [(f.price_ticks, f.amount_lots) for f in report.update.fills] == [(101, 10), (102, 10)]
    assert report.update.price_ticks == COLLAR_HIGH  # the remaining 5 lots rest at the collar
    assert report.remaining_lots == 5


def test_ignore_lets_the_limit_price_through() -> None:
    h = collared()
    report = order_report(h.call(insert(Side.SELL, 0.025, 97, Collar.IGNORE)))
    assert [f.price_ticks for f in report.update.fills] == [100, 99, 98]


def test_market_order_is_clamped_to_the_collar_by_default() -> None:
    h = collared()
    report = order_report(h.call(insert(Side.BUY, 0.05)))
    assert sum(f.amount_lots for f in report.update.fills) == 20  # 101 and 102; 103 is beyond
    assert report.update.status is OrderStatus.CANCELLED_PARTIALLY_FILLED
    # Its infinite limit is always beyond a collar: "reject" refuses it outright.
    assert error_code(h, insert(Side.SELL, 0.001, None, Collar.REJECT)) == 43


def test_amend_beyond_the_collar_is_rejected_and_leaves_the_order() -> None:
    h = collared()
    order_report(h.call(insert(Side.BUY, 0.002, 97)))
    assert error_code(h, AmendOrder(104, 0.002, client_order_id=C1)) == 43
    (resting,) = h.engine.open_orders()
    assert resting.update.price_ticks == 97
    moved = order_report(h.call(AmendOrder(104, 0.002, client_order_id=C1, collar=Collar.CLAMP)))
    assert [f.price_ticks for f in moved.update.fills] == [101]


def test_mass_quotes_are_not_checked_against_the_collar() -> None:
    h = collared()
    h.engine.set_cancel_on_disconnect(h.session)
    h.call(SetMMProtection(h.engine.product(N), 1.0, 0.05))
    quotes = SideQuotes(N, bids=(QuoteLevel(COLLAR_HIGH + 1, 0.03),))
    outcome = h.call(MassQuote((quotes,))).outcome
    assert isinstance(outcome, MassQuoteResult)
    assert (outcome.n_success, outcome.n_fail) == (1, 0)
    filled = [f.price_ticks for n in h.notices() for f in n.update.fills]
    assert filled == [101, 102, 103]  # through the collar at 102
