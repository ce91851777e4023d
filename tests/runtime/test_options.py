"""The options pipeline: the ATM straddle of the first expiry far enough out, followed on the
simulator's option chain, re-picked as the index moves and the expiry rolls, and fed to the
quoter."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import attrs
import pytest
import trio
import trio.testing

from thalex_trio.domain.enums import InstrumentKind, OptionType
from thalex_trio.domain.instrument import Instrument
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.runtime.clock import TrioWallClock
from thalex_trio.runtime.context import Trading
from thalex_trio.runtime.options import (
    OPTION_TICKER_DELAY,
    REPICK_INTERVAL_S,
    AtmPair,
    OptionsPipeline,
    pick_atm_pair,
    should_switch,
)
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.sim.server.config import SIM_OPTION_CHAIN
from thalex_trio.strategy.params import SignalParams
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.strategy.signals.expected_move import annual_to_ticks_per_sqrt_s
from thalex_trio.thalex.channels import ticker_channel
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.session import open_thalex_session
from thalex_trio.thalex.to_domain import instrument_from_wire
from thalex_trio.thalex.wire_requests import ThalexInstrumentRequest, ThalexInstrumentsRequest

from ..sim_server.harness import clock_before_expiry
from .harness import EPOCH_S, URL, make_context, open_server, run_bot, wall_clock

if TYPE_CHECKING:
    from thalex_trio.thalex.session import ThalexSession

DAY_S = 86_400
NOW_S = 1_700_000_000
STEP = SIM_OPTION_CHAIN.strike_step
MIN_DAYS = SignalParams().options_min_days


def option(expiry_days: float, strike: float, kind: OptionType) -> Instrument:
    letter = "C" if kind is OptionType.CALL else "P"
    return Instrument(
        f"BTC-{expiry_days:g}D-{strike:g}-{letter}",
        InstrumentKind.OPTION,
        "BTCUSD",
        5.0,
        0.01,
        0.01,
        expiration_timestamp_s=int(NOW_S + expiry_days * DAY_S),
        strike_price=strike,
        option_type=kind,
    )


def both(expiry_days: float, *strikes: float) -> list[Instrument]:
    return [option(expiry_days, k, t) for k in strikes for t in (OptionType.CALL, OptionType.PUT)]


# -- the pick (pure) ---------------------------------------------------------------------------


def test_the_pick_is_the_nearest_strike_of_the_first_expiry_far_enough_out() -> None:
    chain = [
        *both(2, 59_000, 60_000, 61_000),  # too near
        option(7.5, 60_000, OptionType.CALL),  # far enough, but no put at any strike
        *both(8, 59_000, 60_000, 61_000),
        *both(15, 60_000),
    ]
    pair = pick_atm_pair(chain, 60_620.0, NOW_S, 7.0)
    assert pair is not None
    assert (pair.expiry_s - NOW_S) / DAY_S == 8
    assert pair.strike == 61_000
    assert pair.call.option_type is OptionType.CALL
    assert pair.put.option_type is OptionType.PUT
    assert pick_atm_pair(chain, 60_620.0, NOW_S, 20.0) is None


def test_the_strike_moves_only_once_clearly_nearer() -> None:
    chain = both(8, 60_000, 61_000)
    current = pick_atm_pair(chain, 60_000.0, NOW_S, MIN_DAYS)
    assert current is not None
    names = [o.name for o in chain]

    def switches(index: float) -> bool:
        best = pick_atm_pair(chain, index, NOW_S, MIN_DAYS)
        return should_switch(current, best, index, NOW_S, MIN_DAYS, names)

    assert not switches(60_000.0)
    assert not switches(60_550.0)  # past the midpoint, within the margin: no flapping
    assert switches(60_700.0)


def test_the_expiry_rolls_when_too_near_or_delisted() -> None:
    chain = [*both(8, 60_000), *both(15, 60_000)]
    current = pick_atm_pair(chain, 60_000.0, NOW_S, MIN_DAYS)
    assert current is not None
    names = [o.name for o in chain]
    assert not should_switch(current, current, 60_000.0, NOW_S, MIN_DAYS, names)
    one_day_on = NOW_S + DAY_S + 1
    rolled = pick_atm_pair(chain, 60_000.0, one_day_on, MIN_DAYS)
    assert rolled is not None
    assert (rolled.expiry_s - NOW_S) / DAY_S == 15
    assert should_switch(current, rolled, 60_000.0, one_day_on, MIN_DAYS, names)
    delisted = [n for n in names if n != current.put.name]
    assert should_switch(current, current, 60_000.0, NOW_S, MIN_DAYS, delisted)
    # Nothing qualifies any more: drop the pair.
    assert should_switch(current, None, 60_000.0, NOW_S + 9 * DAY_S, MIN_DAYS, names)
    assert not should_switch(None, None, 60_000.0, NOW_S, MIN_DAYS, names)


# -- against the simulator ---------------------------------------------------------------------


async def listed_options(session: ThalexSession) -> list[Instrument]:
    wires = await session.request(ThalexInstrumentsRequest())
    return [instrument_from_wire(w) for w in wires if w.instrument_type is InstrumentKind.OPTION]


async def wait_for_pair(pipeline: OptionsPipeline, check: object) -> AtmPair:
    """The pipeline's pair once `check(pair)` holds and its expected move is for that pair."""
    assert callable(check)
    await trio.lowlevel.checkpoint()
    while True:
        pair, move = pipeline.pair, pipeline.move
        if (
            pair is not None
            and move is not None
            and check(pair)
            and (move.expiry_s, move.strike) == (pair.expiry_s, pair.strike)
        ):
            return pair
        await trio.sleep(0.5)


def ticker_names(pair: AtmPair) -> set[str]:
    return {ticker_channel(name, OPTION_TICKER_DELAY).name for name in pair.names}


async def test_the_pipeline_follows_the_index_and_rolls_the_expiry_on_the_simulator(
    virtual_clock: trio.testing.MockClock,
) -> None:
    clock = TrioWallClock(int(EPOCH_S * 1e9))
    shift_ns = [0]
    async with (
        open_server(options=SIM_OPTION_CHAIN) as server,
        open_thalex_session(URL, None, connect=server.connect_memory) as session,
        trio.open_nursery() as nursery,
    ):
        perp = instrument_from_wire(await session.request(ThalexInstrumentRequest("BTC-PERPETUAL")))
        options = await listed_options(session)
        strikes = sorted({o.strike_price for o in options if o.strike_price is not None})
        middle = strikes[len(strikes) // 2]
        trading = Trading(perp, Quoter(perp), OrderTracker(perp))
        trading.index_price = middle
        pipeline = OptionsPipeline(trading, lambda: clock.now_ns() + shift_ns[0], min_days=MIN_DAYS)

        async def feed() -> None:
            async for note in session.market_events:
                assert isinstance(note, ThalexNotification)  # no market data converted
                pipeline.on_market(note)

        nursery.start_soon(feed)
        await nursery.start(pipeline.run, session)

        with trio.fail_after(60):
            first = await wait_for_pair(pipeline, lambda p: True)
        days = (first.expiry_s - clock.now_ns() / 1e9) / DAY_S
        assert MIN_DAYS <= days < MIN_DAYS + 1  # the chain's "8 days" expiry
        assert first.strike == middle
        assert ticker_names(first) <= session.subscriptions
        move = pipeline.move
        assert move is not None
        # The straddle rule is first-order: the implied vol is the chain's within a few %.
        assert move.implied_sigma_annual == pytest.approx(SIM_OPTION_CHAIN.iv, rel=0.05)

        # The index moves past the midpoint to the next strike, but not by the margin: stay.
        trading.index_price = middle + 0.55 * STEP
        await trio.sleep(2 * REPICK_INTERVAL_S)
        assert pipeline.pair == first
        # Clearly nearer the next strike: follow it, and stop following the old pair.
        trading.index_price = middle + 0.8 * STEP
        with trio.fail_after(60):
            moved = await wait_for_pair(pipeline, lambda p: p.strike == middle + STEP)
        assert moved.expiry_s == first.expiry_s
        assert ticker_names(moved) <= session.subscriptions
        assert not ticker_names(first) & session.subscriptions

        # A day later that expiry is under the minimum: roll to the next one.
        shift_ns[0] = DAY_S * 1_000_000_000
        with trio.fail_after(60):
            rolled = await wait_for_pair(pipeline, lambda p: p.expiry_s > first.expiry_s)
        assert rolled.strike == middle + STEP
        expiries = sorted({o.expiration_timestamp_s or 0 for o in options})
        assert rolled.expiry_s == expiries[expiries.index(first.expiry_s) + 1]
        assert not ticker_names(moved) & session.subscriptions
        nursery.cancel_scope.cancel()


async def test_the_pipeline_leaves_an_expiry_the_simulator_delists(
    virtual_clock: trio.testing.MockClock,
) -> None:
    # The market opens 20 s before 08:00 UTC, when its nearest expiry is due. The pipeline's
    # own calendar runs an hour behind and takes any expiry: only the delisting can move it.
    sim_clock = clock_before_expiry(20.0, wall_clock)
    chain = attrs.evolve(SIM_OPTION_CHAIN, expiry_days=(1, 2))
    async with (
        open_server(options=chain, clock=sim_clock) as server,
        open_thalex_session(URL, None, connect=server.connect_memory) as session,
        trio.open_nursery() as nursery,
    ):
        perp = instrument_from_wire(await session.request(ThalexInstrumentRequest("BTC-PERPETUAL")))
        options = await listed_options(session)
        strikes = sorted({o.strike_price for o in options if o.strike_price is not None})
        trading = Trading(perp, Quoter(perp), OrderTracker(perp))
        trading.index_price = strikes[len(strikes) // 2]
        market_ns = server.core.clock.now_ns
        pipeline = OptionsPipeline(trading, lambda: market_ns() - 3_600 * 10**9, 0.0)

        async def feed() -> None:
            async for note in session.market_events:
                assert isinstance(note, ThalexNotification)
                pipeline.on_market(note)

        nursery.start_soon(feed)
        await nursery.start(pipeline.run, session)
        with trio.fail_after(15):
            first = await wait_for_pair(pipeline, lambda p: True)
        assert first.expiry_s - market_ns() / 1e9 == pytest.approx(20.0, abs=5.0)
        with trio.fail_after(30):
            rolled = await wait_for_pair(pipeline, lambda p: p.expiry_s != first.expiry_s)
        # Within a re-pick interval of the delisting, to the next expiry.
        assert market_ns() / 1e9 - first.expiry_s < REPICK_INTERVAL_S
        assert rolled.expiry_s == first.expiry_s + DAY_S
        assert rolled.strike == first.strike
        assert not ticker_names(first) & session.subscriptions
        assert ticker_names(rolled) <= session.subscriptions
        nursery.cancel_scope.cancel()


async def test_live_mode_feeds_the_expected_move_to_the_quoter(
    virtual_clock: trio.testing.MockClock,
) -> None:
    """The whole bot with `follow_options`: the pipeline follows the ATM pair and the quoter
    quotes with the options' volatility as its floor (`options_vol_floor_fraction` 1)."""
    ctx = make_context()
    signals = SignalParams(options_vol_floor_fraction=1.0)
    seen: list[tuple[float, float]] = []  # (quoter sigma, implied sigma) in ticks/sqrt(s)
    async with open_server(options=SIM_OPTION_CHAIN) as server, trio.open_nursery() as nursery:

        async def watch() -> None:
            await trio.lowlevel.checkpoint()
            while True:
                await trio.sleep(1.0)
                trading = ctx.trading
                pipeline = None if trading is None else trading.options
                if trading is None or pipeline is None or pipeline.move is None:
                    continue
                move = pipeline.move
                implied = annual_to_ticks_per_sqrt_s(
                    move.implied_sigma_annual, move.index_price, trading.instrument.tick_size
                )
                seen.append((trading.quoter.diagnostics().sigma_ticks_per_sqrt_s, implied))

        nursery.start_soon(watch)
        code = await run_bot(
            server,
            ctx,
            duration_s=20.0,
            follow_options=True,
            make_quoter=functools.partial(Quoter, signals=signals),
        )
        nursery.cancel_scope.cancel()
    assert code is Outcome.OK
    assert ctx.trading is not None
    assert ctx.trading.options is not None
    assert ctx.trading.options.pair is not None
    assert seen
    # Once the move is in, every decision's sigma is at least the implied one (the move may
    # have ticked after the last decision: the chain's mark moves ~1e-4 a second).
    assert all(sigma >= implied * (1 - 1e-3) for sigma, implied in seen[1:])
    # The synthetic market is calmer than the chain's 50% vol: the floor is what it quotes on.
    assert any(sigma == pytest.approx(implied, rel=1e-12) for sigma, implied in seen)
