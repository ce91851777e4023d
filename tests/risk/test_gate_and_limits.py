"""The verdict applied to a ladder, limit validation, and exposure agreeing with the reconciler."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given

from tests.reconcile.strategies import NAME, order_sets
from thalex_trio.domain.enums import Side
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.reconcile.exposure import exposure
from thalex_trio.risk.evaluator import RiskState, TradingState, Verdict
from thalex_trio.risk.exposure import worst_case_lots
from thalex_trio.risk.gate import gate_ladder
from thalex_trio.risk.limits import RiskLimits

if TYPE_CHECKING:
    from thalex_trio.domain.order import Order

LADDER = QuoteLadder(
    NAME,
    (Quote(Side.BUY, 99, 4), Quote(Side.BUY, 98, 4)),
    (Quote(Side.SELL, 101, 4), Quote(Side.SELL, 102, 4)),
)


def verdict(state: TradingState, multiplier: float = 1.0) -> Verdict:
    return Verdict(state, multiplier, (), RiskState.initial(0))


def test_halted_quotes_nothing() -> None:
    assert gate_ladder(LADDER, verdict(TradingState.HALTED), 3, 1) == QuoteLadder(NAME)


def test_reducing_keeps_only_the_reducing_side_and_never_flips() -> None:
    long_gate = gate_ladder(LADDER, verdict(TradingState.REDUCING), 6, 1)
    assert long_gate.bids == ()
    assert [(q.price_ticks, q.amount_lots) for q in long_gate.asks] == [(101, 4), (102, 2)]
    short_gate = gate_ladder(LADDER, verdict(TradingState.REDUCING), -3, 1)
    assert short_gate.asks == ()
    assert [(q.price_ticks, q.amount_lots) for q in short_gate.bids] == [(99, 3)]
    assert gate_ladder(LADDER, verdict(TradingState.REDUCING), 0, 1) == QuoteLadder(NAME)


def test_recovery_scales_sizes_and_drops_what_falls_below_the_minimum() -> None:
    assert gate_ladder(LADDER, verdict(TradingState.ACTIVE), 0, 1) == LADDER
    quarter = gate_ladder(LADDER, verdict(TradingState.ACTIVE, 0.25), 0, 1)
    assert {q.amount_lots for q in quarter.bids + quarter.asks} == {1}
    assert gate_ladder(LADDER, verdict(TradingState.ACTIVE, 0.25), 0, 2) == QuoteLadder(NAME)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_position_lots", 0, "max_position_lots must be > 0 or unset, got 0"),
        ("max_notional", -1.0, "max_notional must be > 0 or unset, got -1.0"),
        ("max_rejects_per_window", -1, "max_rejects_per_window must be >= 0 or unset, got -1"),
        ("rate_window_s", 0.0, "rate_window_s must be > 0, got 0.0"),
        ("recovery_steps", 0, "recovery_steps must be > 0, got 0"),
        ("cooldown_s", -1.0, "cooldown_s must be >= 0, got -1.0"),
    ],
)
def test_limits_refuse_nonsense(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RiskLimits(**{field: value})  # type: ignore[arg-type]  # one field at a time


@given(order_sets())
def test_risk_and_reconciler_agree_on_worst_case_exposure(orders: tuple[Order, ...]) -> None:
    mine = exposure(7, orders)
    assert worst_case_lots(7, orders) == (mine.long_lots, mine.short_lots)
