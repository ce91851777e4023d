"""Every limit driven across its threshold and back, and the recovery that follows."""

from __future__ import annotations

from typing import Any

import pytest
from attrs import evolve

from tests.reconcile.strategies import instrument
from thalex_trio.domain.enums import Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.order import Order
from thalex_trio.risk.evaluator import (
    BreachKind,
    RiskSnapshot,
    RiskState,
    TradingState,
    Verdict,
    evaluate,
)
from thalex_trio.risk.limits import RiskLimits

NS = 1_000_000_000
INSTRUMENT = instrument()  # one lot = 0.001 BTC, tick 1
BASE = RiskLimits(cooldown_s=30.0, recovery_steps=4, recovery_step_s=10.0)


def bid(lots: int) -> Order:
    return Order.new_insert(ClientOrderId(1), INSTRUMENT.name, Side.BUY, 100, lots, placed_ns=0)


def snapshot(t_s: float, **changes: Any) -> RiskSnapshot:
    now = round(t_s * NS)
    base = RiskSnapshot(
        now_ns=now,
        instrument=INSTRUMENT,
        position_lots=0,
        orders=(),
        pnl=0.0,
        mark_price=50_000.0,
        last_market_data_ns=now,
        round_trip_s=0.01,
    )
    return evolve(base, **changes)


class Run:
    """Feeds snapshots to the evaluator, carrying its state along."""

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self.state = RiskState.initial(0)

    def at(self, t_s: float, **changes: Any) -> Verdict:
        verdict = evaluate(snapshot(t_s, **changes), self.limits, self.state)
        self.state = verdict.state
        return verdict


Fields = dict[str, Any]

# kind -> (limits, fields just at the limit, fields just over it, numbers the message states)
RECOVERABLE: dict[BreachKind, tuple[RiskLimits, Fields, Fields, tuple[str, ...]]] = {
    BreachKind.POSITION: (
        evolve(BASE, max_position_lots=10),
        {"position_lots": -10},
        {"position_lots": -11},
        ("11 lots", "10 lots"),
    ),
    BreachKind.NOTIONAL: (
        evolve(BASE, max_notional=100.0),
        {"position_lots": 2},
        {"position_lots": 3},
        ("150.00", "100.00"),
    ),
    BreachKind.EXPOSURE: (
        evolve(BASE, max_exposure_lots=10),
        {"position_lots": 5, "orders": (bid(5),)},
        {"position_lots": 5, "orders": (bid(6),)},
        ("11 lots", "10 lots"),
    ),
    BreachKind.STALE_MARKET_DATA: (
        evolve(BASE, max_market_data_age_s=2.0),
        {"last_market_data_ns": None},
        {},
        ("2.500 s", "2.0 s"),
    ),
    BreachKind.LATENCY: (
        evolve(BASE, max_round_trip_s=0.5),
        {"round_trip_s": 0.5},
        {"round_trip_s": 0.6},
        ("0.600 s", "0.5 s"),
    ),
}


@pytest.mark.parametrize("kind", list(RECOVERABLE), ids=lambda k: k.value)
def test_a_recoverable_limit_reduces_then_recovers_gradually(kind: BreachKind) -> None:
    limits, at_limit, over, numbers = RECOVERABLE[kind]
    if kind is BreachKind.STALE_MARKET_DATA:  # age is measured from the data time
        at_limit, over = {"last_market_data_ns": 8 * NS}, {"last_market_data_ns": 8 * NS}
    run = Run(limits)
    assert run.at(10, **at_limit).trading_state is TradingState.ACTIVE
    breached = run.at(10.5 if kind is BreachKind.STALE_MARKET_DATA else 11, **over)
    assert breached.trading_state is TradingState.REDUCING
    assert [b.kind for b in breached.breaches] == [kind]
    for number in numbers:
        assert number in breached.breaches[0].message
    assert not breached.may_increase_position
    back = run.at(12, **at_limit) if kind is not BreachKind.STALE_MARKET_DATA else run.at(12)
    assert back.trading_state is TradingState.REDUCING  # cooling down
    assert back.breaches == ()
    t_clear = 10.5 if kind is BreachKind.STALE_MARKET_DATA else 11
    steps = [run.at(t_clear + 30 + 10 * k).size_multiplier for k in range(5)]
    assert steps == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert run.at(t_clear + 80).trading_state is TradingState.ACTIVE


def test_a_breach_during_recovery_starts_the_cooldown_again() -> None:
    run = Run(evolve(BASE, max_position_lots=10))
    run.at(1, position_lots=11)
    assert run.at(31).size_multiplier == 0.25
    assert run.at(32, position_lots=11).trading_state is TradingState.REDUCING
    assert run.at(61).trading_state is TradingState.REDUCING
    assert run.at(62).size_multiplier == 0.25


def test_a_reducing_episode_that_outlasts_max_reducing_s_stops_the_process() -> None:
    run = Run(evolve(BASE, max_position_lots=10, max_reducing_s=20.0))
    assert not run.at(1, position_lots=11).stop_process
    assert not run.at(20.9, position_lots=11).stop_process
    assert run.at(21, position_lots=11).stop_process  # 20 s in REDUCING, still breached


def test_the_reducing_clock_counts_the_cooldown_and_restarts_after_recovery() -> None:
    run = Run(evolve(BASE, max_position_lots=10, max_reducing_s=35.0))
    run.at(1, position_lots=11)
    assert not run.at(30).stop_process  # cooling down, 29 s in
    assert run.at(31).trading_state is TradingState.ACTIVE  # recovered before 35 s
    assert not run.at(40, position_lots=11).stop_process  # a new episode starts its own clock
    assert not run.at(74.9, position_lots=11).stop_process
    assert run.at(75, position_lots=11).stop_process


def test_without_max_reducing_s_reducing_never_stops_the_process() -> None:
    run = Run(evolve(BASE, max_position_lots=10))
    assert not any(run.at(t, position_lots=11).stop_process for t in range(0, 10_000, 100))


@pytest.mark.parametrize(
    ("field", "limit_field", "kind"),
    [
        ("rejects_total", "max_rejects_per_window", BreachKind.REJECT_RATE),
        ("throttles_total", "max_throttles_per_window", BreachKind.THROTTLE_RATE),
    ],
)
def test_a_rate_limit_counts_only_its_window(
    field: str, limit_field: str, kind: BreachKind
) -> None:
    run = Run(evolve(BASE, rate_window_s=60.0, **{limit_field: 3}))
    assert run.at(1, **{field: 3}).trading_state is TradingState.ACTIVE  # 3 in 60 s: at the limit
    breached = run.at(2, **{field: 4})
    assert [b.kind for b in breached.breaches] == [kind]
    assert "4 " in breached.breaches[0].message
    assert "in 60 s" in breached.breaches[0].message
    assert run.at(60.5, **{field: 4}).breaches != ()  # (0.5 s, 60.5 s] still holds all 4
    assert run.at(61.5, **{field: 4}).breaches == ()  # the 3 seen by 1 s have left the window
    assert run.at(90, **{field: 4}).trading_state is TradingState.REDUCING
    assert run.at(60.5 + 30, **{field: 4}).size_multiplier == 0.25


def test_take_profit_reduces_and_stays_reducing() -> None:
    run = Run(evolve(BASE, take_profit=100.0))
    assert run.at(1, pnl=99.0).trading_state is TradingState.ACTIVE
    hit = run.at(2, pnl=100.0)
    assert hit.trading_state is TradingState.REDUCING
    assert hit.breaches[0].kind is BreachKind.TAKE_PROFIT
    assert run.at(3, pnl=50.0).trading_state is TradingState.REDUCING
    assert run.at(1_000, pnl=50.0).trading_state is TradingState.REDUCING


# kind -> (limits, a run of (time, fields) ending in the breach)
HALTING: dict[BreachKind, tuple[RiskLimits, list[tuple[float, Fields]]]] = {
    BreachKind.STOP_LOSS: (
        evolve(BASE, stop_loss=50.0),
        [(1, {"pnl": -49.9}), (2, {"pnl": -50.0})],
    ),
    BreachKind.DRAWDOWN: (
        evolve(BASE, max_drawdown=50.0),
        [(1, {"pnl": 120.0}), (2, {"pnl": 70.0}), (3, {"pnl": 69.0})],
    ),
    BreachKind.ORDER_SIZE: (
        evolve(BASE, max_order_lots=5),
        [(1, {"orders": (bid(5),)}), (2, {"orders": (bid(6),)})],
    ),
    BreachKind.DISCONNECTS: (
        evolve(BASE, max_disconnects=2),
        [(1, {"disconnects_total": 2}), (2, {"disconnects_total": 3})],
    ),
}


@pytest.mark.parametrize("kind", list(HALTING), ids=lambda k: k.value)
def test_a_halting_limit_halts_for_good(kind: BreachKind) -> None:
    limits, steps = HALTING[kind]
    run = Run(limits)
    *before, (t_breach, breach) = steps
    for t, fields in before:
        assert run.at(t, **fields).trading_state is TradingState.ACTIVE
    halted = run.at(t_breach, **breach)
    assert halted.trading_state is TradingState.HALTED
    assert halted.size_multiplier == 0.0
    assert [b.kind for b in halted.breaches] == [kind]
    back = run.at(10_000, **before[0][1])  # the value is back within the limit, much later
    assert back.trading_state is TradingState.HALTED
    assert back.breaches == halted.breaches


def test_drawdown_trails_the_peak() -> None:
    run = Run(evolve(BASE, max_drawdown=50.0))
    run.at(1, pnl=0.0)
    assert run.at(2, pnl=-50.0).trading_state is TradingState.ACTIVE  # 50 from the peak of 0
    run.at(3, pnl=200.0)
    assert run.at(4, pnl=149.0).trading_state is TradingState.HALTED  # 51 from the peak of 200


def test_disabled_limits_never_breach() -> None:
    run = Run(RiskLimits())
    verdict = run.at(
        1,
        position_lots=10**6,
        pnl=-1e9,
        round_trip_s=100.0,
        rejects_total=10**6,
        disconnects_total=10**3,
        last_market_data_ns=0,
        orders=(bid(10**6),),
    )
    assert verdict.trading_state is TradingState.ACTIVE
    assert verdict.size_multiplier == 1.0
