"""Exit statuses: every outcome has its code; a REDUCING-class risk stop exits 10, a login the
exchange refuses 2."""

from __future__ import annotations

import functools

import attrs
import trio
import trio.testing

from thalex_trio.commands.exit_codes import ExitCode
from thalex_trio.domain.enums import OrderType, Side
from thalex_trio.risk.evaluator import TradingState
from thalex_trio.risk.limits import RiskLimits
from thalex_trio.runtime import app
from thalex_trio.runtime.context import RiskBreach
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.session_task import SessionSpec, run_session
from thalex_trio.runtime.supervisor import exit_code, run_supervised
from thalex_trio.runtime.watchdog import WATCHDOG_PERIOD_S
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.thalex.credentials import Credentials, Secret
from thalex_trio.thalex.session import open_thalex_session
from thalex_trio.thalex.wire_requests import ThalexInsertRequest

from ..thalex.keys import private_pem
from .harness import (
    KEY_ID,
    URL,
    live_venue,
    make_context,
    open_server,
    run_bot,
    runtime_tasks_left,
    wall_clock,
)


def test_every_outcome_has_the_exit_code_of_its_name() -> None:
    for outcome in Outcome:
        assert app._CODES[outcome] == ExitCode[outcome.name]


async def test_a_breach_exits_with_the_code_of_its_trading_state() -> None:
    await trio.lowlevel.checkpoint()  # the run context's clock reads Trio time
    reducing = RiskBreach("position mismatch", TradingState.REDUCING)
    halted = RiskBreach("stop loss")
    crash = RuntimeError("bug")
    # As the tree raises them: inside nested exception groups.
    nested = ExceptionGroup("session", [ExceptionGroup("trading", [reducing])])
    assert exit_code(make_context(), nested) is Outcome.RISK_REDUCING
    assert exit_code(make_context(), ExceptionGroup("trading", [halted])) is Outcome.RISK_HALTED
    assert exit_code(make_context(), ExceptionGroup("trading", [crash])) is Outcome.CRASH
    assert ExitCode[Outcome.RISK_REDUCING.name] == 10


async def test_crossing_the_position_limit_reduces_then_stops_with_risk_reducing(
    virtual_clock: trio.testing.MockClock,
) -> None:
    limits = RiskLimits(max_position_lots=2, max_reducing_s=3.0)
    ctx = make_context(limits)
    reducing_from: list[float] = []
    async with open_server() as server, trio.open_nursery() as nursery:

        async def watch() -> None:
            await trio.lowlevel.checkpoint()
            while ctx.trading_state is not TradingState.REDUCING:  # noqa: ASYNC110  # polls bot state
                await trio.sleep(0.01)
            reducing_from.append(trio.current_time())

        nursery.start_soon(watch)
        code = await run_bot(server, ctx, duration_s=60.0)
        stopped_at = trio.current_time()
        nursery.cancel_scope.cancel()
        assert code is Outcome.RISK_REDUCING
        assert ctx.breach is not None
        assert ctx.breach.trading_state is TradingState.REDUCING
        assert "position" in ctx.breach.reason
        assert ctx.cleanup_complete is True
        assert server.open_orders() == []
        assert runtime_tasks_left() == []
    # It quoted reducing orders only for a while before stopping, not at the breach.
    assert reducing_from
    assert limits.max_reducing_s is not None
    assert stopped_at - reducing_from[0] >= limits.max_reducing_s - WATCHDOG_PERIOD_S


async def test_a_position_the_bot_did_not_trade_stops_it_with_risk_reducing(
    virtual_clock: trio.testing.MockClock,
) -> None:
    """Another client on the same account buys: the account's position moves without a fill
    of ours, our position from fills no longer matches the venue's, and the run stops with
    REDUCING's status after cancelling every order."""
    ctx = make_context()
    async with open_server() as server, trio.open_nursery() as nursery:

        async def other_client() -> None:
            await trio.lowlevel.checkpoint()
            while len(server.open_orders()) < 2:  # noqa: ASYNC110  # polls simulator state
                await trio.sleep(0.2)
            credentials = Credentials(KEY_ID, Secret(private_pem()))
            async with open_thalex_session(
                URL, credentials, connect=server.connect_memory, wall_clock=wall_clock
            ) as other:
                order = ThalexInsertRequest(
                    direction=Side.BUY,
                    instrument_name="BTC-PERPETUAL",
                    amount=0.005,
                    order_type=OrderType.MARKET,
                )
                await other.request(order)

        nursery.start_soon(other_client)
        code = await run_bot(server, ctx, duration_s=30.0)
        nursery.cancel_scope.cancel()
        assert code is Outcome.RISK_REDUCING
        assert ctx.breach is not None
        assert ctx.breach.trading_state is TradingState.REDUCING
        assert "position mismatch" in ctx.breach.reason
        assert ctx.cleanup_complete is True
        assert server.open_orders() == []
        assert runtime_tasks_left() == []


async def test_a_login_the_exchange_refuses_is_a_usage_error(
    virtual_clock: trio.testing.MockClock,
) -> None:
    """An unknown key id parses fine and fails only at the exchange: exit 2, not a crash."""
    ctx = make_context()
    spec = SessionSpec(
        endpoint=URL,
        credentials=Credentials("K999999999", Secret(private_pem())),
        instrument_name="BTC-PERPETUAL",
        underlying="BTCUSD",
        connect=None,
        wall_clock_s=wall_clock,
    )
    async with open_server() as server:
        spec = attrs.evolve(spec, connect=server.connect_memory)
        code = await run_supervised(
            ctx,
            functools.partial(run_session, ctx, spec, live_venue, Quoter),
            duration_s=10.0,
            handle_signals=False,
        )
        assert server.open_orders() == []
    assert code is Outcome.USAGE
    assert ctx.stop_reason is not None
    assert "authentication failed" in ctx.stop_reason
    assert "K999999999" in ctx.stop_reason
