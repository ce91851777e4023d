"""The API.md §13 checklist items that apply to the matching engine, one row each.

Book in every row: bids 100..96 and asks 101..105, 10 lots (0.01) per level; tick 1, lot 0.001.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.sim.book_fixture import PERP, T0, Harness, order_report, trade
from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.sim.engine.params import CancelledRemaining, EngineParams
from thalex_trio.sim.engine.reports import (
    ErrorCode,
    MassQuoteResult,
    MMProtectionNotice,
    OrderNotice,
)
from thalex_trio.sim.engine.requests import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    CancelSession,
    InsertOrder,
    MassQuote,
    QuoteLevel,
    SetMMProtection,
    SideQuotes,
)

if TYPE_CHECKING:
    from collections.abc import Callable

N = PERP.name
C1, C2 = ClientOrderId(1), ClientOrderId(2)


def buy(
    price: float | None,
    amount: float = 0.005,
    *,
    post_only: bool = False,
    reject_post_only: bool = False,
    reduce_only: bool = False,
    time_in_force: TimeInForce | None = None,
) -> InsertOrder:
    return InsertOrder(
        N,
        Side.BUY,
        amount,
        price,
        client_order_id=C1,
        time_in_force=time_in_force,
        post_only=post_only,
        reject_post_only=reject_post_only,
        reduce_only=reduce_only,
    )


def test_error_codes_are_the_exchange_numbers() -> None:
    assert [int(c) for c in (ErrorCode.PRICE_NOT_ALIGNED, ErrorCode.INVALID_AMOUNT)] == [15, 14]
    assert [int(c) for c in (ErrorCode.INVALID_PRICE, ErrorCode.UNKNOWN_INSTRUMENT)] == [13, 5]


def code_of(h: Harness, request: InsertOrder | AmendOrder) -> int | None:
    err = h.call(request).error
    return None if err is None else int(err.code)


# -- 10: validation ------------------------------------------------------------------------


def row_10_price_off_grid(h: Harness) -> None:
    assert code_of(h, buy(99.5)) == 15


def row_10_price_checked_before_amount(h: Harness) -> None:
    assert code_of(h, buy(99.5, 0.0015)) == 15


def row_10_amount_off_grid(h: Harness) -> None:
    assert code_of(h, buy(99, 0.0015)) == 14


def row_10_amount_below_minimum(h: Harness) -> None:
    assert code_of(h, buy(99, 0.0)) == 14


def row_10_rounding_to_8_decimals(h: Harness) -> None:
    assert code_of(h, buy(99.000000001, 0.005000000001)) is None


def row_10_non_positive_price(h: Harness) -> None:
    assert code_of(h, buy(-1.0)) == 13


def row_10_unknown_instrument(h: Harness) -> None:
    err = h.call(InsertOrder("ETH-PERPETUAL", Side.BUY, 0.001, 10.0)).error
    assert err is not None
    assert err.code == 5


def row_10_amend_below_minimum(h: Harness) -> None:
    order_report(h.call(buy(99)))
    assert code_of(h, AmendOrder(99, 0.0, client_order_id=C1)) == 14


# -- 11/12: defaults -----------------------------------------------------------------------


def row_12_defaults(h: Harness) -> None:
    limit = order_report(h.call(buy(99)))
    assert limit.order_type is OrderType.LIMIT
    assert limit.time_in_force.value == "good_till_cancelled"
    market = order_report(h.call(InsertOrder(N, Side.BUY, 0.001, order_type=OrderType.MARKET)))
    assert market.time_in_force.value == "immediate_or_cancel"
    assert market.update.status is OrderStatus.FILLED


def row_11_ioc_post_only_refused(h: Harness) -> None:
    req = buy(99, post_only=True, time_in_force=TimeInForce.IOC)
    assert code_of(h, req) == ErrorCode.INVALID_TIME_IN_FORCE


# -- 13: post-only -------------------------------------------------------------------------


def row_13_post_only_moves_inside(h: Harness) -> None:
    rep = order_report(h.call(buy(103, post_only=True)))
    assert rep.update.price_ticks == 100  # one tick inside the best ask 101
    assert rep.update.status is OrderStatus.OPEN
    assert rep.update.fills == ()


def row_13_reject_post_only_is_immediate_cancel(h: Harness) -> None:
    rep = order_report(h.call(buy(103, post_only=True, reject_post_only=True)))
    assert rep.update.status is OrderStatus.CANCELLED
    assert rep.update.delete_reason is DeleteReason.IMMEDIATE_CANCEL
    assert rep.remaining_lots == 0
    assert rep.update.fills == ()


# -- 14: reduce-only -----------------------------------------------------------------------


def row_14_reduce_only(h: Harness) -> None:
    assert code_of(h, buy(99, reduce_only=True)) is not None  # flat: nothing to reduce
    order_report(h.call(buy(101, 0.004)))  # takes 4 lots: long 4
    sell = InsertOrder(N, Side.SELL, 0.01, 110.0, client_order_id=C2, reduce_only=True)
    rep = order_report(h.call(sell))
    assert rep.update.amount_lots == 4  # capped at the position
    h.call(InsertOrder(N, Side.SELL, 0.003, 100.0, client_order_id=ClientOrderId(3)))
    recap = [n for n in h.notices() if n.client_order_id == C2][-1]
    assert recap.update.change_reason is ChangeReason.AMEND
    assert recap.remaining_lots == 1  # re-capped to the smaller position


# -- 15: IOC -------------------------------------------------------------------------------


def row_15_ioc_partial(h: Harness) -> None:
    rep = order_report(h.call(buy(101, 0.015, time_in_force=TimeInForce.IOC)))
    assert rep.update.status is OrderStatus.CANCELLED_PARTIALLY_FILLED
    assert rep.update.delete_reason is DeleteReason.IMMEDIATE_CANCEL
    assert rep.update.filled_lots == 10


# -- 17/18: amend and cancel ---------------------------------------------------------------


def row_17_amend_reduce_keeps_priority(h: Harness) -> None:
    rep = order_report(h.call(buy(100)))
    before = h.engine.queue_ahead_lots(rep.update.exchange_order_id)
    h.market(trade(T0 + 1, -1, 100, 4))
    assert h.engine.queue_ahead_lots(rep.update.exchange_order_id) == 6
    order_report(h.call(AmendOrder(100, 0.003, client_order_id=C1)))
    assert before == 10
    assert h.engine.queue_ahead_lots(rep.update.exchange_order_id) == 6


def row_17_amend_increase_loses_priority(h: Harness) -> None:
    rep = order_report(h.call(buy(100)))
    h.market(trade(T0 + 1, -1, 100, 4))
    order_report(h.call(AmendOrder(100, 0.008, client_order_id=C1)))
    assert h.engine.queue_ahead_lots(rep.update.exchange_order_id) == 10


def row_17_amend_at_or_below_filled_cancels(h: Harness) -> None:
    order_report(h.call(buy(100)))
    h.market(trade(T0 + 1, -1, 100, 12))  # 10 ahead, then 2 of ours
    rep = order_report(h.call(AmendOrder(100, 0.002, client_order_id=C1)))
    assert rep.update.status is OrderStatus.CANCELLED_PARTIALLY_FILLED
    assert rep.update.change_reason is ChangeReason.AMEND


def row_17_amend_can_cross(h: Harness) -> None:
    order_report(h.call(buy(99)))
    rep = order_report(h.call(AmendOrder(101, 0.005, client_order_id=C1)))
    assert rep.update.status is OrderStatus.FILLED
    assert rep.update.fills[0].liquidity is Liquidity.TAKER


def row_18_cancel_unknown_or_gone_is_code_1(h: Harness) -> None:
    assert h.call(CancelOrder(client_order_id=C1)).error is not None
    order_report(h.call(buy(101)))  # filled at once
    err = h.call(CancelOrder(client_order_id=C1)).error
    assert err is not None
    assert err.code is ErrorCode.ORDER_NOT_FOUND
    assert int(err.code) == 1
    err = h.call(AmendOrder(100, 0.001, client_order_id=C1)).error
    assert err is not None
    assert err.code == 1


def row_16_duplicate_client_order_id(h: Harness) -> None:
    order_report(h.call(buy(99)))
    assert code_of(h, buy(98)) == ErrorCode.DUPLICATE_ORDER_ID


# -- 19/20: matching and reports -----------------------------------------------------------


def row_19_fills_carry_trade_fields(h: Harness) -> None:
    rep = order_report(h.call(buy(102, 0.015)))
    assert [(f.price_ticks, f.amount_lots) for f in rep.update.fills] == [(101, 10), (102, 5)]
    assert all(f.liquidity is Liquidity.TAKER and len(f.trade_id) == 32 for f in rep.update.fills)
    assert rep.update.status is OrderStatus.FILLED


def row_20_reports_consistent(h: Harness) -> None:
    order_report(h.call(buy(100)))
    h.market(trade(T0 + 1, -1, 100, 13))
    h.market(trade(T0 + 2, -1, 100, 5))
    fills = [n for n in h.notices() if n.update.change_reason is ChangeReason.FILL]
    assert [n.update.status for n in fills] == [OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert [len(n.update.fills) for n in fills] == [1, 1]  # only the new fills
    assert [n.update.filled_lots + n.remaining_lots for n in fills] == [5, 5]
    assert fills[0].close_time_ns is None
    assert fills[1].close_time_ns is not None
    assert all(f.liquidity is Liquidity.MAKER for n in fills for f in n.update.fills)


def row_20_cancel_report(h: Harness) -> None:
    order_report(h.call(buy(99)))
    rep = order_report(h.call(CancelOrder(client_order_id=C1)))
    assert rep.update.change_reason is ChangeReason.CANCEL
    assert rep.update.delete_reason is DeleteReason.CLIENT_CANCEL
    assert rep.remaining_lots == 0


# -- 7/8/9: sessions -----------------------------------------------------------------------


def row_8_cancel_session_on_persistent_is_error(h: Harness) -> None:
    err = h.call(CancelSession()).error
    assert err is not None
    assert err.code == ErrorCode.PERSISTENT_SESSION


def row_7_disconnect_deletes_non_persistent_only(h: Harness) -> None:
    order_report(h.call(buy(99)))  # persistent: before set_cancel_on_disconnect
    h.engine.set_cancel_on_disconnect(h.session)
    order_report(h.call(InsertOrder(N, Side.BUY, 0.001, 98.0, client_order_id=C2)))
    h.engine.close_session(h.session, h.engine.now_ns)
    h.engine.advance_to(h.engine.now_ns)
    h.drain()
    ended = [n for n in h.notices() if n.update.delete_reason is DeleteReason.SESSION_END]
    assert [n.client_order_id for n in ended] == [C2]
    assert [o.client_order_id for o in h.engine.open_orders()] == [C1]


def row_9_cancel_all_counts_every_session(h: Harness) -> None:
    other = h.engine.open_session()
    order_report(h.call(buy(99)))
    order_report(h.call(buy(98), session=other))
    result = h.call(CancelAll())
    assert result.outcome == 2
    bulk = [n for n in h.notices() if n.update.delete_reason is DeleteReason.CLIENT_BULK_CANCEL]
    assert len(bulk) == 2


# -- 26: mass quote and MM protection ------------------------------------------------------


def _quote(h: Harness, bids: tuple[tuple[float, float], ...]) -> MassQuoteResult:
    levels = tuple(QuoteLevel(p, a) for p, a in bids)
    out = h.call(MassQuote((SideQuotes(N, bids=levels),))).outcome
    assert isinstance(out, MassQuoteResult)
    return out


def row_26_mass_quote_needs_protection_and_non_persistent(h: Harness) -> None:
    err = h.call(MassQuote((SideQuotes(N, bids=()),))).error
    assert err is not None
    assert err.code == ErrorCode.PERSISTENT_SESSION
    h.engine.set_cancel_on_disconnect(h.session)
    out = _quote(h, ((99, 0.001),))
    assert (out.n_success, out.n_fail, out.errors[0].code) == (0, 1, ErrorCode.PROT_NOT_SET)


def row_26_mass_quote_replace_keeps_identical(h: Harness) -> None:
    h.engine.set_cancel_on_disconnect(h.session)
    h.call(SetMMProtection(h.engine.product(N), 1.0, 0.01))
    assert _quote(h, ((99, 0.002), (98, 0.002))).n_success == 1
    first = {o.update.price_ticks: o.update.exchange_order_id for o in h.engine.open_orders()}
    assert _quote(h, ((99, 0.002), (97, 0.002))).n_success == 1
    now = {o.update.price_ticks: o.update.exchange_order_id for o in h.engine.open_orders()}
    assert now[99] == first[99]  # identical level kept, with its priority
    assert set(now) == {99, 97}
    replaced = [n for n in h.notices() if n.update.delete_reason is DeleteReason.REPLACED]
    assert [n.update.price_ticks for n in replaced] == [98]
    assert _quote(h, ((97, 0.0),)).n_success == 1  # amount 0 deletes; omitted 99 goes too
    assert h.engine.open_orders() == []


def row_26_quote_above_quote_amount_rejected(h: Harness) -> None:
    h.engine.set_cancel_on_disconnect(h.session)
    h.call(SetMMProtection(h.engine.product(N), 1.0, 0.002))
    out = _quote(h, ((99, 0.003),))
    assert out.errors[0].code == ErrorCode.QUOTE_EXCEEDS_PROT_GROUP_SIZE


def row_26_mm_protection_cancels_when_exhausted(h: Harness) -> None:
    h.engine.set_cancel_on_disconnect(h.session)
    h.call(SetMMProtection(h.engine.product(N), 0.002, 0.01))
    _quote(h, ((100, 0.002), (99, 0.002)))
    h.market(trade(T0 + 1, -1, 99, 2))  # through 100: that quote fills entirely
    gone = [n for n in h.notices() if n.update.delete_reason is DeleteReason.MM_PROTECTION]
    assert [n.update.price_ticks for n in gone] == [99]
    assert any(isinstance(r, MMProtectionNotice) for r in h.reports)
    assert _quote(h, ((95, 0.001),)).errors[0].code == ErrorCode.PROT_NOT_SET  # until refill


def row_8_cancel_session_resets_groups(h: Harness) -> None:
    h.engine.set_cancel_on_disconnect(h.session)
    h.call(SetMMProtection(h.engine.product(N), 1.0, 0.01))
    _quote(h, ((99, 0.002),))
    assert h.call(CancelSession()).error is None
    assert [n.update.delete_reason for n in h.notices()][-1] is DeleteReason.SESSION_END
    assert _quote(h, ((99, 0.002),)).errors[0].code == ErrorCode.PROT_NOT_SET


ROWS: list[Callable[[Harness], None]] = [
    f for name, f in sorted(globals().items()) if name.startswith("row_") and callable(f)
]


@pytest.mark.parametrize("row", ROWS, ids=[f.__name__.removeprefix("row_") for f in ROWS])
def test_checklist(row: Callable[[Harness], None]) -> None:
    row(Harness())


def test_cancelled_remaining_convention_unchanged() -> None:
    h = Harness(EngineParams(cancelled_remaining=CancelledRemaining.UNCHANGED))
    order_report(h.call(buy(99)))
    assert order_report(h.call(CancelOrder(client_order_id=C1))).remaining_lots == 5


def test_result_is_delivered_before_its_notice() -> None:
    h = Harness()
    h.call(buy(99))
    kinds = [type(r).__name__ for r in h.reports]
    assert kinds[:2] == ["RequestResult", "OrderNotice"]
    assert isinstance(h.reports[1], OrderNotice)
