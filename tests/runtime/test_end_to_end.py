"""The bot trading against the simulator over the real protocol, on virtual time."""

from __future__ import annotations

import os
import signal

import trio
import trio.testing

from thalex_trio.domain.enums import Side
from thalex_trio.runtime.outcome import Outcome

from .harness import make_context, open_server, run_bot, runtime_tasks_left


async def test_quotes_both_sides_fills_and_matches_the_simulator(
    virtual_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    two_sided = 0
    mids: list[float] = []
    ours: list[float] = []
    async with open_server() as server:

        async def watch() -> None:

            await trio.lowlevel.checkpoint()
            nonlocal two_sided
            while True:
                await trio.sleep(1.0)
                sides = {o.side for o in server.open_orders()}
                if sides == {Side.BUY, Side.SELL}:
                    two_sided += 1
                    bids = [o.update.price_ticks or 0 for o in server.open_orders()]
                    ours.append(sum(bids) / len(bids))
                    mids.append(server.stats()["mid"])

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            code = await run_bot(server, ctx, duration_s=40.0)
            nursery.cancel_scope.cancel()
        assert code == Outcome.OK
        assert two_sided >= 20
        assert ctx.stats.fills > 0
        assert ctx.trading is not None
        position = ctx.trading.tracker.position
        assert position.size_lots == server.position().size_lots
        assert position.fill_count == ctx.stats.fills
        assert ctx.stats.book_refreshes == 0  # our book and the ticker always agreed
        assert server.open_orders() == []
        assert runtime_tasks_left() == []
    # Orders follow the market: our average quote moves with the mid.
    assert max(mids) - min(mids) > 0
    assert max(ours) - min(ours) > 0


async def test_sigint_cancels_every_order_and_exits_zero(
    virtual_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    async with open_server() as server, trio.open_nursery() as nursery:

        async def interrupt() -> None:

            await trio.lowlevel.checkpoint()
            while len(server.open_orders()) < 2:  # noqa: ASYNC110  # polls simulator/bot state, which has no event
                await trio.sleep(0.5)
            os.kill(os.getpid(), signal.SIGINT)

        nursery.start_soon(interrupt)
        code = await run_bot(server, ctx, duration_s=None, handle_signals=True)
        assert code == Outcome.OK
        assert ctx.stop_reason == "signal SIGINT"
        assert ctx.cleanup_complete is True
        assert server.open_orders() == []
        assert runtime_tasks_left() == []
