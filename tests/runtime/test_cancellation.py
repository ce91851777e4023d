"""A risk breach, a crash or a dropped connection at any point: every order cancelled, no task
of ours left, the right exit status."""

from __future__ import annotations

import attrs
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_trio.runtime.outcome import Outcome

from .harness import RunContext, SimServer, make_context, open_server, run_bot, runtime_tasks_left


@settings(max_examples=4)
@given(at_s=st.floats(0.5, 8.0), breach=st.sampled_from(["disconnects", "stop_loss"]))
def test_a_risk_breach_at_any_point_cancels_everything(at_s: float, breach: str) -> None:
    async def main() -> None:
        ctx = make_context()
        async with open_server() as server, trio.open_nursery() as nursery:

            async def breach_later() -> None:

                await trio.lowlevel.checkpoint()
                await trio.sleep(at_s)
                await cause_breach(ctx, server, breach)

            nursery.start_soon(breach_later)
            code = await run_bot(server, ctx, duration_s=30.0)
            nursery.cancel_scope.cancel()
            assert code == Outcome.RISK_HALTED
            assert ctx.breach is not None
            assert server.open_orders() == []
            assert runtime_tasks_left() == []

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


async def cause_breach(ctx: RunContext, server: SimServer, kind: str) -> None:
    """Make the watchdog halt: too many disconnects, or a PnL collapse below the stop loss."""
    await trio.lowlevel.checkpoint()
    if kind == "disconnects":
        ctx.risk_limits = attrs.evolve(ctx.risk_limits, max_disconnects=0)
        server.drop_connections()
        return
    ctx.risk_limits = attrs.evolve(ctx.risk_limits, stop_loss=1e-9, max_position_lots=None)
    while ctx.breach is None:  # polls simulator/bot state, which has no event
        if ctx.trading is not None:
            ctx.trading.mark_price = 1.0  # the mark collapses; any position loses
        await trio.sleep(0.01)


async def test_stop_loss_breach_exits_halted(virtual_clock: trio.testing.MockClock) -> None:
    ctx = make_context()
    async with open_server() as server, trio.open_nursery() as nursery:

        async def breach_later() -> None:

            await trio.lowlevel.checkpoint()
            while ctx.trading is None or ctx.trading.tracker.position.size_lots == 0:  # noqa: ASYNC110  # polls simulator/bot state, which has no event
                await trio.sleep(0.1)
            await cause_breach(ctx, server, "stop_loss")

        nursery.start_soon(breach_later)
        code = await run_bot(server, ctx, duration_s=30.0)
        assert code == Outcome.RISK_HALTED
        assert ctx.cleanup_complete is True
        assert ctx.breach is not None
        assert "stop loss" in ctx.breach.reason
        assert server.open_orders() == []
        assert runtime_tasks_left() == []


async def test_a_crash_in_one_task_cancels_everything(
    virtual_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    async with open_server() as server, trio.open_nursery() as nursery:

        async def sabotage() -> None:

            await trio.lowlevel.checkpoint()
            while ctx.trading is None or not server.open_orders():  # noqa: ASYNC110  # polls simulator/bot state, which has no event
                await trio.sleep(0.2)
            quoter = ctx.trading.quoter

            def broken(*_args: object) -> None:
                raise RuntimeError("strategy bug")

            quoter.decide = broken  # type: ignore[method-assign,assignment]  # inject a crash

        nursery.start_soon(sabotage)
        code = await run_bot(server, ctx, duration_s=30.0)
        assert code == Outcome.CRASH
        assert ctx.stop_reason is not None
        assert "strategy bug" in ctx.stop_reason
        assert server.open_orders() == []
        assert runtime_tasks_left() == []


async def test_dropped_connection_resumes_with_agreeing_orders_and_position(
    virtual_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    sessions_after: list[int] = []
    async with open_server() as server, trio.open_nursery() as nursery:

        async def faults() -> None:

            await trio.lowlevel.checkpoint()
            for _ in range(2):
                while ctx.stats.fills < 3 or not server.open_orders():  # noqa: ASYNC110  # polls simulator/bot state, which has no event
                    await trio.sleep(0.1)
                await trio.sleep(2.0)
                server.drop_connections()
                await trio.sleep(4.0)
                sessions_after.append(len({o.session_id for o in server.open_orders()}))

        nursery.start_soon(faults)
        code = await run_bot(server, ctx, duration_s=25.0)
        assert code == Outcome.OK
        assert ctx.stats.disconnects >= 2
        assert ctx.trading is not None
        assert ctx.trading.tracker.position.size_lots == server.position().size_lots
        assert server.open_orders() == []
    # After each reconnect only the new session's orders are open.
    assert sessions_after
    assert all(n <= 1 for n in sessions_after)
