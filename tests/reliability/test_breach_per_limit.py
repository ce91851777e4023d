"""Every risk limit, crossed in a live run against the simulator: the whole tree unwinds, no order
of ours is left at the simulator within the cleanup deadline, the breach is a row in the store,
and the exit status names the class of stop (RISK_HALTED or RISK_REDUCING, by the limit).

Each case sets one limit tight (every other limit off) and, where quoting alone cannot cross it,
drives it from the simulator: faults for latency, rejects, throttles and stale data, a dropped
connection for the disconnect count, a market with jumps for the stop loss. Two limits the
reconciler enforces itself (worst-case exposure and order size: the plan never breaks them) are
crossed by giving the reconciler a looser budget than the watchdog, which is the upstream bug
those two limits are there to catch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pytest
import trio
import trio.testing
from attrs import frozen

from thalex_trio.commands.exit_codes import ExitCode
from thalex_trio.domain.enums import Side
from thalex_trio.reconcile.params import ReconcileLimits
from thalex_trio.risk.evaluator import BreachKind, TradingState
from thalex_trio.risk.limits import RiskLimits
from thalex_trio.sim.engine.params import Fees
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.server.faults import Chance, FaultPlan, Latency, RejectInsert
from thalex_trio.strategy.params import StrategyParams
from thalex_trio.strategy.quoter import Quoter

from ..runtime.harness import BUSY_MARKET, make_context, run_bot, runtime_tasks_left
from .live import open_market_server, open_test_store, query, wait_until_quoting

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.runtime.context import RunContext
    from thalex_trio.sim.server.server import SimServer

RUN_LIMIT_S = 15.0
"""Virtual seconds a run may last: every limit here is crossed within a few seconds of quoting,
so a run that lasts this long did not stop on its breach."""

PLAN_BUDGET = ReconcileLimits(max_exposure_lots=100, max_order_lots=50)
"""A reconciler budget looser than the watchdog's limit, for the two limits the plan enforces."""

JUMPY_MARKET = attrs.evolve(BUSY_MARKET, jump_rate_per_s=1.0, jump_sigma_ticks=40.0)
"""A market that jumps 40 ticks about once a second: a position loses within seconds."""

NO_FEES = Fees(maker_rate=0.0, taker_rate=0.0)


@frozen
class Case:
    """How one limit is crossed."""

    kind: BreachKind
    limits: RiskLimits
    faults: FaultPlan | None = None
    """Injected once our quotes rest at the simulator."""
    drop_connection: bool = False
    """Drop every connection once our quotes rest."""
    plan_budget: ReconcileLimits | None = None
    size_lots: int = 1
    market: SyntheticParams = BUSY_MARKET
    fees: Fees | None = None
    """The simulator's fee rates, when not its default (a maker rebate)."""

    @property
    def state(self) -> TradingState:
        """The trading state the breach moves to."""
        return TradingState.HALTED if self.kind.halts else TradingState.REDUCING

    @property
    def exit_code(self) -> ExitCode:
        """The class of stop."""
        halted = self.state is TradingState.HALTED
        return ExitCode.RISK_HALTED if halted else ExitCode.RISK_REDUCING


CASES = [
    # Position and exposure: fills of 1-lot quotes cross these within seconds.
    Case(BreachKind.POSITION, RiskLimits(max_position_lots=2)),
    Case(BreachKind.NOTIONAL, RiskLimits(max_notional=100.0)),  # 60 per lot at 60k
    Case(
        BreachKind.EXPOSURE,
        RiskLimits(max_exposure_lots=2),  # three 1-lot levels a side rest: 3 > 2
        plan_budget=PLAN_BUDGET,
    ),
    Case(BreachKind.ORDER_SIZE, RiskLimits(max_order_lots=3), plan_budget=PLAN_BUDGET, size_lots=5),
    # Money, in the quote currency: one lot is 0.001 BTC, so a tick moves it by 0.001.
    Case(BreachKind.DRAWDOWN, RiskLimits(max_drawdown=0.02)),
    # The loss must come from prices: no maker rebate to offset it while the market jumps.
    Case(BreachKind.STOP_LOSS, RiskLimits(stop_loss=0.02), market=JUMPY_MARKET, fees=NO_FEES),
    Case(BreachKind.TAKE_PROFIT, RiskLimits(take_profit=0.02)),
    # Health, driven by the simulator.
    Case(
        BreachKind.STALE_MARKET_DATA,
        RiskLimits(max_market_data_age_s=1.0),
        faults=FaultPlan(drop_notification=Chance(1.0)),
    ),
    Case(
        BreachKind.LATENCY,
        RiskLimits(max_round_trip_s=0.5),
        # Every frame 0.8 s late: a slow link, which still carries the cleanup. (Holding frames
        # in order now and then instead builds an unbounded backlog on a busy feed.)
        faults=FaultPlan(latency=Latency(0.8)),
    ),
    Case(
        BreachKind.REJECT_RATE,
        RiskLimits(max_rejects_per_window=0),
        faults=FaultPlan(reject_insert=RejectInsert(1.0)),
    ),
    Case(
        BreachKind.THROTTLE_RATE,
        RiskLimits(max_throttles_per_window=0),
        faults=FaultPlan(throttle=Chance(1.0)),
    ),
    Case(BreachKind.DISCONNECTS, RiskLimits(max_disconnects=0), drop_connection=True),
]

LIMIT_FIELD = {
    BreachKind.POSITION: "max_position_lots",
    BreachKind.NOTIONAL: "max_notional",
    BreachKind.EXPOSURE: "max_exposure_lots",
    BreachKind.ORDER_SIZE: "max_order_lots",
    BreachKind.DRAWDOWN: "max_drawdown",
    BreachKind.STOP_LOSS: "stop_loss",
    BreachKind.TAKE_PROFIT: "take_profit",
    BreachKind.STALE_MARKET_DATA: "max_market_data_age_s",
    BreachKind.LATENCY: "max_round_trip_s",
    BreachKind.REJECT_RATE: "max_rejects_per_window",
    BreachKind.THROTTLE_RATE: "max_throttles_per_window",
    BreachKind.DISCONNECTS: "max_disconnects",
}
"""The `RiskLimits` field of each limit."""


def test_every_limit_has_a_case() -> None:
    assert sorted(c.kind.value for c in CASES) == sorted(k.value for k in BreachKind)
    assert set(LIMIT_FIELD) == set(BreachKind)


def threshold(case: Case) -> float:
    """The limit as a risk event records it (the stop loss as the PnL level it stops at)."""
    limit = float(getattr(case.limits, LIMIT_FIELD[case.kind]))
    return -limit if case.kind is BreachKind.STOP_LOSS else limit


async def drive(server: SimServer, case: Case) -> None:
    """Once our quotes rest at the simulator, inject what crosses the limit."""
    await wait_until_quoting(server)
    if case.faults is not None:
        server.inject(case.faults)
    if case.drop_connection:
        server.drop_connections()


MAX_REDUCING_S = 2.0
"""How long a REDUCING-class breach may keep trading reduce-only before the run stops."""


def context_for(case: Case) -> RunContext:
    """The run's context with the case's limits (and plan budget)."""
    ctx = make_context(attrs.evolve(case.limits, max_reducing_s=MAX_REDUCING_S))
    if case.plan_budget is not None:
        ctx.reconcile_limits = case.plan_budget
    return ctx


def quoter_for(case: Case) -> Callable[[Instrument], Quoter]:
    """The quoter factory with the case's quote size."""

    def make(instrument: Instrument) -> Quoter:
        return Quoter(instrument, StrategyParams(size_lots=case.size_lots))

    return make


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.kind.value)
async def test_crossing_a_limit_stops_the_run_cleanly(
    case: Case, db_dsn: str, tmp_path: Path, virtual_clock: trio.testing.MockClock
) -> None:
    ctx = context_for(case)
    async with (
        open_test_store(db_dsn, tmp_path) as writer,
        open_market_server(case.market, case.fees) as server,
    ):
        ctx.sink = writer.sink
        async with trio.open_nursery() as nursery:
            nursery.start_soon(drive, server, case)
            outcome = await run_bot(
                server, ctx, duration_s=RUN_LIMIT_S, make_quoter=quoter_for(case)
            )
            nursery.cancel_scope.cancel()
        left_at_simulator = server.open_orders()
        tasks_left = runtime_tasks_left()

    observed = {
        "stopped because": (ctx.stop_reason or "").partition(":")[0],
        "exit status": ExitCode[outcome.name],
        "cleanup complete": ctx.cleanup_complete,
        "orders left at the simulator": len(left_at_simulator),
        "tasks of ours left": tasks_left,
    }
    assert observed == {
        "stopped because": "risk breach",
        "exit status": case.exit_code,
        "cleanup complete": True,
        "orders left at the simulator": 0,
        "tasks of ours left": [],
    }, ctx.stop_reason
    # The store has the breach: which limit, its value beyond the threshold, the verdict.
    rows = query(
        db_dsn,
        "SELECT value, threshold, verdict FROM risk_events WHERE limit_name = %s",
        case.kind.value,
    )
    assert rows, f"no risk_events row for {case.kind.value}"
    value, limit, verdict = rows[0]
    assert (limit, verdict) == (threshold(case), case.state.value)
    assert isinstance(value, float)
    assert isinstance(limit, float)
    if case.kind is BreachKind.STOP_LOSS:
        assert value <= limit
    elif case.kind is BreachKind.TAKE_PROFIT:
        assert value >= limit
    else:
        assert value > limit
    changes = query(db_dsn, "SELECT previous, current FROM trading_state_changes")
    assert ("active", case.state.value) in changes


REDUCING_GRACE_S = 0.05
"""After the state turns REDUCING or the position moves, orders that no longer reduce may rest
until the executor's next plan has cancelled them (well under this on the in-memory link)."""

REDUCING_SAMPLE_S = 0.01
REDUCING_WATCH_S = 5.0


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.kind in (BreachKind.POSITION, BreachKind.TAKE_PROFIT)],
    ids=lambda c: c.kind.value,
)
async def test_while_reducing_only_orders_that_reduce_rest_at_the_simulator(
    case: Case, virtual_clock: trio.testing.MockClock
) -> None:
    ctx = context_for(case)
    reducing_seen = False
    violations: list[str] = []
    async with open_market_server(case.market, case.fees) as server:

        async def watch() -> None:
            nonlocal reducing_seen
            await trio.lowlevel.checkpoint()
            while ctx.trading_state is not TradingState.REDUCING:  # noqa: ASYNC110  # polls bot state, which has no event
                await trio.sleep(REDUCING_SAMPLE_S)
            reducing_seen = True
            position = server.position().size_lots
            steady_since = trio.current_time()
            deadline = steady_since + REDUCING_WATCH_S
            while trio.current_time() < deadline and ctx.trading_state is TradingState.REDUCING:
                if server.position().size_lots != position:
                    position, steady_since = server.position().size_lots, trio.current_time()
                elif trio.current_time() - steady_since >= REDUCING_GRACE_S:
                    violations.extend(growing_orders(server, position))
                await trio.sleep(REDUCING_SAMPLE_S)
            ctx.stop("watched the reducing state")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            await run_bot(server, ctx, duration_s=RUN_LIMIT_S, make_quoter=quoter_for(case))
            nursery.cancel_scope.cancel()
        assert server.open_orders() == []
    assert reducing_seen
    assert violations == []


def growing_orders(server: SimServer, position_lots: int) -> list[str]:
    """Our resting orders at the simulator that could take the position further from flat,
    described; the reducing side may rest up to the position and no more."""
    out = []
    reducing_lots = 0
    for order in server.open_orders():
        reduces = (order.side is Side.SELL) if position_lots > 0 else (order.side is Side.BUY)
        if position_lots == 0 or not reduces:
            out.append(
                f"{order.side.value} {order.remaining_lots} lots at position {position_lots}"
            )
        else:
            reducing_lots += order.remaining_lots
    if reducing_lots > abs(position_lots):
        out.append(f"{reducing_lots} reducing lots rest against a position of {position_lots}")
    return out
