"""The bot trading against the simulator over the real protocol, on virtual time."""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing

from thalex_trio.domain.enums import Side
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.server import methods
from thalex_trio.sim.server.channels_out import MarketPublisher
from thalex_trio.strategy.params import EstimatorParams, StrategyParams
from thalex_trio.strategy.quoter import Quoter

from .harness import make_context, open_server, run_bot, runtime_tasks_left

if TYPE_CHECKING:
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.thalex.channels import Channel


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
        # Fees (maker rebates here) come from the trade history, not the order fills.
        assert position.fees < 0
        assert position.fees == pytest.approx(server.position().fees, rel=1e-9)
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


SPARSE_MARKET = SyntheticParams(
    seed=11,
    arrival_a_per_s=5.0,
    arrival_k_per_tick=5.0,
    half_spread_ticks=30.0,
    depth_levels=3,
    options=None,
)
"""A wide market with three levels a side: a ladder inside its spread tops the book. Its
orders reach no further than a tick or two (k = 5 per tick), so they leave the ladder whole
(a fill would take a level out until the next plan)."""


def deep_quoter(instrument: Instrument) -> Quoter:
    """Ten levels a side a tick apart, close to the mid: inside `SPARSE_MARKET`'s spread."""
    strategy = StrategyParams(
        levels_per_side=10,
        level_spacing_ticks=1.0,
        size_lots=4,  # 2 once the wide spread makes the regime illiquid (size x 0.5)
        min_half_spread_ticks=2.0,
        position_limit_lots=200,
        fallback_sigma_ticks_per_sqrt_s=1.0,
    )
    return Quoter(instrument, strategy, EstimatorParams(warmup_s=2.0))


async def _deep_ladder_run(book_name: str, duration_s: float) -> tuple[Outcome, int, int]:
    """`deep_quoter` live on `SPARSE_MARKET`: (exit, seconds sampled, seconds with ten levels a
    side at the simulator); the bot's book subscription is checked to be `book_name`."""
    ctx = make_context()
    samples = two_sided = 0
    async with open_server(market_params=SPARSE_MARKET) as server:

        async def watch() -> None:
            nonlocal samples, two_sided
            await trio.sleep(5.0)  # the first ladder is in place
            assert server.core.publisher.subscribers(book_name)
            while True:
                await trio.sleep(1.0)
                samples += 1
                bids = sum(o.side is Side.BUY for o in server.open_orders())
                asks = sum(o.side is Side.SELL for o in server.open_orders())
                two_sided += bids >= 10 and asks >= 10

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            code = await run_bot(server, ctx, duration_s=duration_s, make_quoter=deep_quoter)
            nursery.cancel_scope.cancel()
    return code, samples, two_sided


async def test_a_ladder_deeper_than_ten_levels_still_sees_the_market_behind_it(
    virtual_clock: trio.testing.MockClock,
) -> None:
    # Ours are the top ten prices of each side of the published book: taken out of a ten-level
    # book they would leave the side empty, and the quoter (on the mid) would pull its ladder
    # until ours were gone from the book: the ladder would flap between half and whole.
    code, samples, two_sided = await _deep_ladder_run("book.BTC-PERPETUAL.none.30.raw", 30.0)
    assert code == Outcome.OK
    assert samples >= 20
    assert two_sided == samples


def _taking_books(monkeypatch: pytest.MonkeyPatch, nlevels: set[str]) -> None:
    """Make the simulator leave out book channels of any depth but `nlevels`, as an exchange
    that takes only some depths would."""
    accepts = MarketPublisher.accepts

    def picky(self: MarketPublisher, name: str) -> Channel | None:
        if name.startswith("book.") and name.split(".")[-2] not in nlevels:
            return None
        return accepts(self, name)

    monkeypatch.setattr(MarketPublisher, "accepts", picky)


async def test_a_refused_book_depth_falls_back_to_the_whole_book(
    virtual_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _taking_books(monkeypatch, {"all"})
    code, samples, two_sided = await _deep_ladder_run("book.BTC-PERPETUAL.none.all.raw", 20.0)
    assert code == Outcome.OK
    assert samples >= 10
    assert two_sided == samples


async def test_no_book_at_all_stops_the_run_with_a_clear_reason(
    virtual_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _taking_books(monkeypatch, set())
    ctx = make_context()
    async with open_server() as server:
        code = await run_bot(server, ctx, duration_s=20.0)
        assert server.open_orders() == []
    assert code == Outcome.CRASH
    assert ctx.stop_reason is not None
    assert "takes neither book.BTC-PERPETUAL.none.16.raw nor" in ctx.stop_reason


async def test_a_refused_order_channel_stops_the_run_before_any_order(
    virtual_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As for an API key without the trading permission: no fills would ever reach us.
    monkeypatch.setattr(methods, "PRIVATE_CHANNELS", methods.PRIVATE_CHANNELS - {"session.orders"})
    ctx = make_context()
    async with open_server() as server:
        code = await run_bot(server, ctx, duration_s=20.0)
        assert server.open_orders() == []
    assert code == Outcome.CRASH
    assert ctx.stats.inserts == 0
    assert ctx.stop_reason is not None
    assert "did not take session.orders" in ctx.stop_reason
