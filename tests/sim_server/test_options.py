"""The simulator's option chain through the project's client: listed instruments, Black-76
tickers on the synthetic forward, and the expected-move signal's input, every frame checked
against openapi.json."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from typing import TYPE_CHECKING

import attrs
import pytest
import trio

from thalex_trio.domain.enums import InstrumentKind, OptionType, Side
from thalex_trio.sim.market import black76
from thalex_trio.sim.market.option_listing import listed_expiries_s
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket
from thalex_trio.sim.server.config import SIM_OPTION_CHAIN, Synthetic
from thalex_trio.sim.server.options import YEAR_S, listed_chain
from thalex_trio.strategy.params import SignalParams
from thalex_trio.strategy.signals.expected_move import select_atm_straddle
from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.errors import UnknownInstrument
from thalex_trio.thalex.to_domain import instrument_from_wire, ticker_from_wire
from thalex_trio.thalex.wire_market import ThalexInstrumentsPayload, ThalexTicker
from thalex_trio.thalex.wire_requests import (
    ThalexInsertRequest,
    ThalexInstrumentRequest,
    ThalexInstrumentsRequest,
    ThalexTickerRequest,
)

from .harness import clock_before_expiry, open_client, open_test_server, spec_violations, wait_for

if TYPE_CHECKING:
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.market import Ticker
    from thalex_trio.thalex.frames import ThalexNotification

PERP = "BTC-PERPETUAL"
NAME = re.compile(r"^BTC-(\d{1,2}[A-Z]{3}\d{2})-(\d+)-([CP])$")
"""Thalex option names, e.g. BTC-10SEP21-70000-C (API.md §8.9)."""

EXACT = 1e-9
"""Relative tolerance for values the server computes with the same Black-76 formulas: only
floating-point rounding separates them (the JSON round trip of a double is exact)."""

PARITY_TOLERANCE_USD = 1e-6
"""Put-call parity C - P = F - K holds exactly for undiscounted Black-76 at one forward, one
time and one iv (calls and puts of a strike share the smile's iv); what remains is rounding in
the normal CDF (erf), ~1e-16 relative on prices of a few thousand USD, so ~1e-12 USD. A micro
dollar is far above that and far below any real parity error (a tick is 0.1 USD)."""

THROTTLED_DELAY = "5000ms"
MARK_INTERVAL_S = 1.0
"""The synthetic perpetual's mark changes every `reference_interval_ms` (1 s by default)."""

UPDATES = 4
"""Ticker messages followed per option channel (the value on subscribing, then updates)."""

DAY_S = 86_400


def _options(wires: list[Instrument]) -> list[Instrument]:
    return [i for i in wires if i.kind is InstrumentKind.OPTION]


def _check_listing(option: Instrument, expiry_date: str | None) -> None:
    """Name, product, grids and expiry fields as the exchange gives them."""
    match = NAME.match(option.name)
    assert match is not None, option.name
    assert option.expiration_timestamp_s is not None
    expiry = dt.datetime.fromtimestamp(option.expiration_timestamp_s, dt.UTC)
    assert match.group(1) == expiry.strftime("%d%b%y").upper()
    assert expiry_date == expiry.date().isoformat()
    assert option.strike_price == float(match.group(2))
    kind = OptionType.CALL if match.group(3) == "C" else OptionType.PUT
    assert option.option_type is kind
    assert option.product == "OBTCUSD"
    assert option.underlying == "BTCUSD"
    assert option.tick_size > 0
    assert option.volume_tick_size > 0


def _check_black76(option: Instrument, ticker: ThalexTicker) -> None:
    """The ticker is Black-76 on its own forward, at its mark time, with the chain's smile."""
    assert ticker.iv is not None
    assert ticker.forward is not None
    assert option.strike_price is not None
    assert option.option_type is not None
    assert option.expiration_timestamp_s is not None
    strike, forward = option.strike_price, ticker.forward
    years = (option.expiration_timestamp_s - ticker.mark_timestamp) / YEAR_S
    chain = SIM_OPTION_CHAIN
    iv = chain.iv * (1.0 + chain.smile * math.log(strike / forward) ** 2)
    mark = black76.price(forward, strike, years, iv, option.option_type)
    delta = black76.delta(forward, strike, years, iv, option.option_type)
    assert ticker.iv == pytest.approx(iv, rel=EXACT)
    assert ticker.mark_price == pytest.approx(mark, rel=EXACT, abs=EXACT * forward)
    assert ticker.delta == pytest.approx(delta, rel=EXACT, abs=EXACT)
    assert ticker.mark_price > 0
    if option.option_type is OptionType.CALL:
        assert 0.0 < ticker.delta < 1.0
    else:
        assert -1.0 < ticker.delta < 0.0


def test_the_server_marks_its_chain_as_the_generator_does() -> None:
    """The server re-marks the listed chain on each forward; at the opening forward and time
    it must agree with the generator's own option tickers (one smile, one Black-76)."""
    source = SyntheticMarket(SyntheticParams(options=SIM_OPTION_CHAIN, index_basis_ticks=3.0))
    expected = source.option_tickers()
    chain = listed_chain(source, PERP)
    assert chain is not None
    assert list(chain.instruments) == [i.name for i, _ in expected]
    for instrument, truth in expected:
        assert truth.forward is not None
        served = chain.ticker(instrument.name, truth.forward, truth.index_price, truth.time_ns)
        assert served.mark_price == pytest.approx(truth.mark_price, rel=EXACT)
        assert served.iv == pytest.approx(truth.iv, rel=EXACT)
        assert served.delta == pytest.approx(truth.delta, rel=EXACT, abs=EXACT)
        assert (served.forward, served.index) == (truth.forward, truth.index_price)


async def test_option_chain_end_to_end_and_every_frame_matches_the_spec(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Synthetic() without params is `--market synthetic`: the default chain.
    async with (
        open_test_server(market=Synthetic()) as server,
        open_client(server, ("instruments", "system")) as session,
    ):
        with trio.fail_after(30):
            snapshot = await wait_for(
                session.market_events, lambda n: n.channel.kind is ChannelKind.INSTRUMENTS
            )
            wires = await session.request(ThalexInstrumentsRequest())
        assert snapshot.snapshot
        assert isinstance(snapshot.payload, ThalexInstrumentsPayload)
        channel_names = [c.added.instrument_name for c in snapshot.payload.items if c.added]
        assert channel_names == [w.instrument_name for w in wires]
        assert PERP in channel_names

        # calls and puts at the same strikes for at least two expiries
        instruments = [instrument_from_wire(w) for w in wires]
        options = _options(instruments)
        for option, wire in zip(instruments, wires, strict=True):
            if option.kind is InstrumentKind.OPTION:
                _check_listing(option, wire.expiry_date)
        expiries = {o.expiration_timestamp_s for o in options}
        assert len(expiries) >= 2
        for expiry in expiries:
            kinds: dict[float | None, set[OptionType | None]] = {}
            for o in options:
                if o.expiration_timestamp_s == expiry:
                    kinds.setdefault(o.strike_price, set()).add(o.option_type)
            assert len(kinds) >= 3
            assert all(k == {OptionType.CALL, OptionType.PUT} for k in kinds.values())
        by_name = {o.name: o for o in options}

        with trio.fail_after(30):
            one = await session.request(ThalexInstrumentRequest(options[0].name))
            assert instrument_from_wire(one) == options[0]
            perp = await session.request(ThalexTickerRequest(PERP))

            # every option's ticker, the expected-move pipeline's input
            pairs: list[tuple[Instrument, Ticker]] = []
            for option in options:
                wire_ticker = await session.request(ThalexTickerRequest(option.name))
                _check_black76(option, wire_ticker)
                pairs.append((option, ticker_from_wire(wire_ticker, option)))
        # the options' forward is the perpetual's mark (marked at most a second apart)
        forward = pairs[0][1].forward
        assert forward == pytest.approx(perp.mark_price, rel=1e-3)

        now_s = pairs[-1][1].time_ns / 1e9
        min_days = SignalParams().options_min_days
        move = select_atm_straddle(pairs, pairs[-1][1].index_price, now_s, min_days)
        assert move is not None
        assert move.days_to_expiry >= min_days
        assert math.isfinite(move.move_fraction)
        assert move.move_fraction > 0
        # The straddle rule (sqrt(2/pi) sigma F sqrt(T)) is exact to first order in
        # sigma sqrt(T) ~ 0.07 at 8 days, and the nearest strike is at most half a step (0.8%)
        # from the forward: the implied vol comes back within a few percent of the chain's iv.
        assert move.implied_sigma_annual == pytest.approx(SIM_OPTION_CHAIN.iv, rel=0.05)

        # the ATM call and put of that expiry, followed on a throttled ticker channel
        atm = [
            o
            for o in options
            if o.expiration_timestamp_s == move.expiry_s and o.strike_price == move.strike
        ]
        channels = [f"ticker.{o.name}.{THROTTLED_DELAY}" for o in atm]
        with trio.fail_after(30):
            assert sorted(await session.subscribe(channels)) == sorted(channels)
        updates: dict[str, list[ThalexTicker]] = {c: [] for c in channels}

        def enough(note: ThalexNotification) -> bool:
            if note.channel.name in updates and isinstance(note.payload, ThalexTicker):
                updates[note.channel.name].append(note.payload)
            return all(len(u) >= UPDATES for u in updates.values())

        with trio.fail_after(120):
            await wait_for(session.market_events, enough)

        # options are market data only: an insert is refused with code 5
        with (
            trio.fail_after(30),
            pytest.raises(UnknownInstrument, match="market data only") as refused,
        ):
            await session.request(ThalexInsertRequest(Side.BUY, atm[0].name, 0.1, 100.0))
        assert refused.value.code == 5

    marks: dict[float, dict[OptionType, ThalexTicker]] = {}
    for name, tickers in updates.items():
        option = by_name[name.split(".")[1]]
        assert option.option_type is not None
        stamps = [t.mark_timestamp for t in tickers]
        assert stamps == sorted(set(stamps))
        # The first message is the value sent on subscribing; the throttle spaces the updates
        # after it. An update at least 5 s after the previous carries a mark at most one mark
        # interval older than itself, so their marks are at least 5 - 1 s apart.
        delay_s = float(THROTTLED_DELAY.removesuffix("ms")) / 1000.0
        sent = stamps[1:]
        assert all(b - a >= delay_s - MARK_INTERVAL_S for a, b in itertools.pairwise(sent))
        for ticker in tickers:
            _check_black76(option, ticker)
            marks.setdefault(ticker.mark_timestamp, {})[option.option_type] = ticker
        # updated as the synthetic forward moves
        assert len({t.forward for t in tickers}) == len(tickers)
    strike = move.strike
    matched = [m for m in marks.values() if len(m) == 2]
    assert matched
    for pair in matched:
        call, put = pair[OptionType.CALL], pair[OptionType.PUT]
        assert call.forward is not None
        assert call.forward == put.forward
        assert call.mark_price - put.mark_price == pytest.approx(
            call.forward - strike, abs=PARITY_TOLERANCE_USD
        )
        assert call.delta - put.delta == pytest.approx(1.0, abs=EXACT)

    problems, counts = spec_violations(server)
    assert problems == []
    for key in ("public/instruments", "public/instrument", "public/ticker", "instruments"):
        assert counts[key] >= 1, key
    assert counts["ticker.<instrument>.<delay>"] >= UPDATES * 2


async def test_a_market_without_a_chain_lists_only_the_perpetual(
    autojump_clock: trio.testing.MockClock,
) -> None:
    no_chain = attrs.evolve(SyntheticParams(), options=None)
    async with (
        open_test_server(market=Synthetic(no_chain)) as server,
        open_client(server) as session,
    ):
        with trio.fail_after(30):
            wires = await session.request(ThalexInstrumentsRequest())
            assert [w.instrument_name for w in wires] == [PERP]
            taken = await session.subscribe([f"ticker.{PERP}.1000ms", "ticker.BTC-X-1-C.1000ms"])
        assert taken == [f"ticker.{PERP}.1000ms"]
    assert spec_violations(server)[0] == []


ROLL_CHAIN = attrs.evolve(SIM_OPTION_CHAIN, expiry_days=(1, 2), strikes_each_side=1)
"""Expiries 0-1 and 1-2 days out, three strikes: small enough to read a roll item by item."""

TO_EXPIRY_S = 30.0
"""The market opens this long before 08:00 UTC, when its nearest expiry is due."""


async def test_the_chain_rolls_at_0800_utc_delisting_the_expiry_due(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = clock_before_expiry(TO_EXPIRY_S)
    market = Synthetic(SyntheticParams(seed=3, options=ROLL_CHAIN))
    async with (
        open_test_server(market=market, wall_clock=clock) as server,
        open_client(server, ("instruments",), clock=clock) as session,
    ):
        with trio.fail_after(30):
            snapshot = await wait_for(
                session.market_events, lambda n: n.channel.kind is ChannelKind.INSTRUMENTS
            )
        assert isinstance(snapshot.payload, ThalexInstrumentsPayload)
        before = _options(
            [instrument_from_wire(c.added) for c in snapshot.payload.items if c.added]
        )
        due_s, next_s = sorted({o.expiration_timestamp_s or 0 for o in before})
        # Market time: the harness clock stands still while it is ahead of Trio time.
        market_s = server.core.clock.now_ns() / 1e9
        assert due_s - market_s == pytest.approx(TO_EXPIRY_S, abs=1.0)
        assert next_s - due_s == DAY_S
        due = [o for o in before if o.expiration_timestamp_s == due_s]
        ticker_channel = f"ticker.{due[0].name}.1000ms"
        with trio.fail_after(30):
            assert await session.subscribe([ticker_channel]) == [ticker_channel]

        # At 08:00 the due expiry goes and the rule's new farthest one comes, in one message.
        seen: list[ThalexNotification] = []
        with trio.fail_after(2 * TO_EXPIRY_S):
            roll = await wait_for(
                session.market_events,
                lambda n: n.channel.kind is ChannelKind.INSTRUMENTS and not n.snapshot,
                seen,
            )
        assert server.core.clock.now_ns() >= due_s * 1e9
        assert isinstance(roll.payload, ThalexInstrumentsPayload)
        kinds = ["removed" if c.removed else "added" for c in roll.payload.items]
        assert kinds == sorted(kinds, reverse=True)  # removals first
        removed = [instrument_from_wire(c.removed) for c in roll.payload.items if c.removed]
        added = [instrument_from_wire(c.added) for c in roll.payload.items if c.added]
        assert removed == due
        assert {o.expiration_timestamp_s for o in added} == {next_s + DAY_S}
        assert len(added) == len(due)
        for option in added:
            _check_listing(
                option, dt.datetime.fromtimestamp(next_s + DAY_S, dt.UTC).date().isoformat()
            )
        assert any(n.channel.name == ticker_channel for n in seen)  # followed until then

        with trio.fail_after(30):
            listed = {w.instrument_name for w in await session.request(ThalexInstrumentsRequest())}
            assert listed == {PERP} | {o.name for o in before + added} - {o.name for o in due}
            with pytest.raises(UnknownInstrument):
                await session.request(ThalexTickerRequest(due[0].name))
            with pytest.raises(UnknownInstrument):
                await session.request(ThalexInstrumentRequest(due[0].name))
            fresh = await session.request(ThalexTickerRequest(added[0].name))
        _check_black76(added[0], fresh)
        # the delisted option's ticker stopped with it
        with trio.move_on_after(10):
            late = await wait_for(session.market_events, lambda n: n.channel.name == ticker_channel)
            raise AssertionError(f"a delisted option's ticker still comes: {late}")
    problems, _ = spec_violations(server)
    assert problems == []


def test_a_month_of_rolls_keeps_the_configured_expiries_ahead() -> None:
    source = SyntheticMarket(SyntheticParams(options=SIM_OPTION_CHAIN))
    chain = listed_chain(source, PERP)
    assert chain is not None
    start_ns = source.time_ns
    assert chain.roll(start_ns + 1, 60_000.0).removed == ()  # before 08:00: nothing moves
    forward = 60_000.0
    for hours in range(0, 30 * 24, 7):  # every 7 h, so each roll lands at another hour
        now_ns = start_ns + hours * 3_600 * 1_000_000_000
        forward *= 1.002  # the strikes of new expiries follow the forward
        change = chain.roll(now_ns, forward)
        expiries = {o.expiration_timestamp_s or 0 for o in chain.instruments.values()}
        assert min(expiries) * 1e9 > now_ns  # nothing expired is listed
        wanted = listed_expiries_s(SIM_OPTION_CHAIN.expiry_days, now_ns)
        assert set(wanted) <= expiries
        assert max(expiries) == max(wanted)
        for option in change.added:
            assert option.strike_price is not None
            assert (
                abs(option.strike_price - forward)
                <= (SIM_OPTION_CHAIN.strikes_each_side + 0.5) * SIM_OPTION_CHAIN.strike_step
            )
