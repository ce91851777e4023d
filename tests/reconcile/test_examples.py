"""Concrete reconciler behaviours, one per rule, and parameter validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from attrs import evolve

from tests.reconcile.strategies import NAME, instrument
from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.enums import OrderStatus, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.order import ORDER_NOT_FOUND, Order, OrderState, RequestKind
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.reconcile.exposure import exposure, worst_case_lots
from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams, ReconcileStyle
from thalex_trio.reconcile.reconciler import Plan, reconcile

if TYPE_CHECKING:
    from collections.abc import Callable

INSTRUMENT = instrument()


def resting(cid: int, side: Side, price: int, lots: int, placed_ns: int = 0) -> Order:
    order = Order.new_insert(ClientOrderId(cid), NAME, side, price, lots, placed_ns=placed_ns)
    return evolve(order, state=OrderState.OPEN, status=OrderStatus.OPEN)


def ladder(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> QuoteLadder:
    return QuoteLadder(
        NAME,
        tuple(Quote(Side.BUY, p, n) for p, n in bids),
        tuple(Quote(Side.SELL, p, n) for p, n in asks),
    )


def plan(
    desired: QuoteLadder,
    orders: list[Order],
    *,
    position: int = 0,
    params: ReconcileParams | None = None,
    limits: ReconcileLimits | None = None,
    best: tuple[int | None, int | None] = (None, None),
    now_ns: int = 0,
) -> Plan:
    return reconcile(
        desired,
        orders,
        position_lots=position,
        instrument=INSTRUMENT,
        params=params or ReconcileParams(),
        limits=limits or ReconcileLimits(),
        next_client_order_id=ClientOrderId(100),
        best_bid_ticks=best[0],
        best_ask_ticks=best[1],
        now_ns=now_ns,
    )


def test_an_empty_book_gets_inserts_best_first_bid_ask_interleaved() -> None:
    result = plan(ladder([(99, 1), (98, 2)], [(101, 1)]), [])
    assert result.actions == (
        Insert(ClientOrderId(100), NAME, Side.BUY, 99, 1),
        Insert(ClientOrderId(101), NAME, Side.SELL, 101, 1),
        Insert(ClientOrderId(102), NAME, Side.BUY, 98, 2),
    )
    assert result.next_client_order_id == 102 + 1


def test_a_ladder_in_place_needs_nothing() -> None:
    orders = [resting(1, Side.BUY, 99, 1), resting(2, Side.SELL, 101, 1)]
    assert plan(ladder([(99, 1)], [(101, 1)]), orders).is_empty


def test_within_the_threshold_behind_is_left_alone_but_ahead_is_moved_back() -> None:
    params = ReconcileParams(amend_threshold_ticks=3, size_tolerance_lots=1)
    behind = [resting(1, Side.BUY, 97, 2)]
    assert plan(ladder([(99, 1)], []), behind, params=params).is_empty
    ahead = [resting(1, Side.BUY, 100, 1)]
    assert plan(ladder([(99, 1)], []), ahead, params=params).actions == (
        Amend(ClientOrderId(1), 99, 1),
    )


def test_a_resize_at_the_same_price_is_an_amend_and_a_volume_safe_one() -> None:
    partly_filled = evolve(
        resting(1, Side.SELL, 101, 5),
        filled_lots=2,
        reported_filled_lots=2,
        status=OrderStatus.PARTIALLY_FILLED,
    )
    # 3 remain; the desired 1 remaining means a new original amount of 2 filled + 1.
    assert plan(ladder([], [(101, 1)]), [partly_filled]).actions == (
        Amend(ClientOrderId(1), 101, 3),
    )


def test_cancels_come_first_and_moves_away_before_moves_towards() -> None:
    orders = [
        resting(1, Side.BUY, 99, 1),
        resting(2, Side.SELL, 101, 1),
        resting(3, Side.SELL, 105, 1),
    ]
    result = plan(ladder([(102, 1)], [(104, 1)]), orders)
    # The market jumped up: the bid advances to 102, past where the ask rested at 101, so the
    # ask must retreat first; the spare ask is cancelled before anything else.
    assert result.actions == (
        Cancel(ClientOrderId(3)),
        Amend(ClientOrderId(2), 104, 1),
        Amend(ClientOrderId(1), 102, 1),
    )


def test_orders_in_flight_are_not_touched_and_hold_their_level() -> None:
    pending = Order.new_insert(ClientOrderId(1), NAME, Side.BUY, 98, 1, placed_ns=0)
    result = plan(ladder([(99, 1)], []), [pending])
    assert result.is_empty
    assert result.deferred_levels == 1


def test_an_untouchable_bid_blocks_asks_at_or_below_it() -> None:
    amending = resting(1, Side.BUY, 99, 1).request_amend(103, 1, now_ns=0)
    result = plan(ladder([], [(102, 1), (104, 1)]), [amending])
    assert result.actions == (Insert(ClientOrderId(100), NAME, Side.SELL, 104, 1),)


def test_post_only_prices_are_clamped_one_tick_inside_the_opposite_best() -> None:
    result = plan(ladder([(103, 1), (101, 2), (99, 1)], []), [], best=(None, 102))
    assert [(a.price_ticks, a.amount_lots) for a in result.actions if isinstance(a, Insert)] == [
        (101, 1),
        (99, 1),
    ]


def test_the_exposure_limit_trims_the_far_end_and_counts_pending_cancels() -> None:
    limits = ReconcileLimits(max_exposure_lots=5)
    full = plan(ladder([(99, 2), (98, 2), (97, 2)], []), [], position=1, limits=limits)
    assert [a.amount_lots for a in full.actions if isinstance(a, Insert)] == [2, 2]
    leaving = resting(1, Side.BUY, 90, 3).request_cancel()
    # Steady state allows 4 more lots, but the cancel may still lose to a fill: only 1 now.
    partial = plan(ladder([(99, 2), (98, 2)], []), [leaving], position=1, limits=limits)
    assert [a.amount_lots for a in partial.actions if isinstance(a, Insert)] == [1]
    assert partial.deferred_levels == 2


def test_an_old_order_is_replaced() -> None:
    params = ReconcileParams(max_order_age_s=10.0)
    old = resting(1, Side.BUY, 99, 1, placed_ns=0)
    result = plan(ladder([(99, 1)], []), [old], params=params, now_ns=10 * 10**9)
    assert result.actions == (
        Cancel(ClientOrderId(1)),
        Insert(ClientOrderId(100), NAME, Side.BUY, 99, 1),
    )


def test_mass_quote_sends_only_the_changed_side_and_keeps_resting_levels_as_they_are() -> None:
    params = ReconcileParams(style=ReconcileStyle.MASS_QUOTE, amend_threshold_ticks=2)
    orders = [resting(1, Side.BUY, 98, 1), resting(2, Side.SELL, 101, 1)]
    result = plan(ladder([(99, 1), (97, 1)], [(101, 1)]), orders, params=params)
    assert result.actions == (
        MassQuote(NAME, bids=(Quote(Side.BUY, 98, 1), Quote(Side.BUY, 97, 1)), asks=None),
    )
    assert plan(ladder([(99, 1)], [(101, 1)]), orders, params=params).is_empty
    withdrawn = plan(ladder([(99, 1)], []), orders, params=params)
    assert withdrawn.actions == (MassQuote(NAME, bids=None, asks=()),)


def test_mass_quote_keeps_a_partially_filled_quote_as_it_was_quoted() -> None:
    # 4 of 10 lots filled: sending (99, 10) again leaves it (6 lots, its place in the queue),
    # while (99, 6) would replace it with a new quote at the back of the queue.
    params = ReconcileParams(style=ReconcileStyle.MASS_QUOTE)
    partial = evolve(resting(1, Side.BUY, 99, 10), filled_lots=4, reported_filled_lots=4)
    moved = plan(ladder([(99, 10), (97, 10)], []), [partial], params=params)
    assert moved.actions == (
        MassQuote(NAME, bids=(Quote(Side.BUY, 99, 10), Quote(Side.BUY, 97, 10)), asks=None),
    )
    # Quoted with the level's amount, it is in place: a refill cannot be asked for in place.
    assert plan(ladder([(99, 10)], []), [partial], params=params).is_empty
    # Left with a size the level no longer wants, it is replaced.
    resized = plan(ladder([(99, 5)], []), [partial], params=params)
    assert resized.actions == (MassQuote(NAME, bids=(Quote(Side.BUY, 99, 5),), asks=None),)


def test_worst_case_counts_an_amend_overtaken_by_a_cancel_and_an_unresolved_code_1() -> None:
    overtaken = resting(1, Side.BUY, 99, 2).request_amend(99, 6, now_ns=0).request_cancel()
    assert worst_case_lots(overtaken) == 6  # the amend is processed before the cancel
    assert overtaken.worst_case_remaining_lots == 6  # the domain agrees
    gone = resting(2, Side.BUY, 99, 3).request_cancel().reject(RequestKind.CANCEL, ORDER_NOT_FOUND)
    assert worst_case_lots(gone) == 3  # may have filled; its final report is still due
    assert exposure(0, [overtaken, gone]).long_lots == 9


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: ReconcileParams(amend_threshold_ticks=0),
            "amend_threshold_ticks must be > 0, got 0",
        ),
        (
            lambda: ReconcileParams(size_tolerance_lots=-1),
            "size_tolerance_lots must be >= 0, got -1",
        ),
        (
            lambda: ReconcileParams(max_order_age_s=0.0),
            "max_order_age_s must be > 0 or unset, got 0.0",
        ),
        (
            lambda: ReconcileLimits(max_exposure_lots=-1),
            "max_exposure_lots must be > 0 or unset, got -1",
        ),
    ],
)
def test_params_refuse_nonsense(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
