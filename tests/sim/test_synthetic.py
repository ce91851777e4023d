"""The synthetic market: determinism, known parameters recovered, options, fills on quotes.

Its market orders reach our quotes wherever the market's own levels are: a quote at depth
delta from the mid fills at rate A exp(-k delta), inside a wide spread too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from tests.sim.book_fixture import PERP, T0, Harness, events, order_report, snapshot
from thalex_trio.domain.enums import Liquidity, OptionType, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.reports import OrderNotice, Report
from thalex_trio.sim.engine.requests import InsertOrder
from thalex_trio.sim.events import MARK_EVENT, MARKET_ORDER_EVENT, TRADE_EVENT, concat_events
from thalex_trio.sim.market import black76
from thalex_trio.sim.market.params import QUIET, VOLATILE, SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill


def test_same_seed_same_stream() -> None:
    params = SyntheticParams(seed=7, regimes=(QUIET, VOLATILE), regime_switch_probability=0.01)
    a = concat_events(list(SyntheticMarket(params).chunks(60, chunk_s=7)))
    b = concat_events(list(SyntheticMarket(params).chunks(60, chunk_s=60)))
    assert a.dtype.names is not None
    for name in a.dtype.names:  # field by field: the alignment padding carries no data
        assert a[name].tobytes() == b[name].tobytes()


def test_sigma_and_arrivals_match_the_known_parameters() -> None:
    params = SyntheticParams(seed=3, half_spread_ticks=0.0, level_lots=10**6)
    market = SyntheticMarket(params)
    events = concat_events(list(market.chunks(900)))
    marks = events[events["kind"] == MARK_EVENT]["value"] / params.tick_size
    sigma = float(np.std(np.diff(marks))) / math.sqrt(params.reference_interval_ms / 1000)
    assert abs(sigma / params.sigma_ticks_per_sqrt_s - 1) < 0.1
    # Buy orders reaching at least the first ask level arrive at about A exp(-k delta) with
    # delta between 0 and 1 tick; count one per order (its first print).
    trades = events[events["kind"] == TRADE_EVENT]
    buys = trades[trades["side"] == 1]
    orders = np.unique(buys["exch_ts_ns"]).shape[0]
    rate = orders / 900
    a, k = params.arrival_a_per_s, params.arrival_k_per_tick
    assert a * math.exp(-k * 1.0) * 0.8 < rate < a * 1.05


def test_market_orders_fill_our_quotes_at_their_depth() -> None:
    market = SyntheticMarket(SyntheticParams(seed=1))
    engine = MatchingEngine([market.instrument()])
    name = market.params.instrument_name
    first = next(market.chunks(1))
    engine.feed(name, first)
    engine.advance_to(int(first["exch_ts_ns"][-1]))
    session = engine.open_session()
    top = engine.top_of_book(name)
    assert top.ask is not None
    ask = InsertOrder(name, Side.SELL, 0.001, float(top.ask.price_ticks + 1), ClientOrderId(1))
    engine.submit(session, ask, engine.now_ns)
    for chunk in market.chunks(600):
        engine.feed(name, chunk)
        engine.advance_to(int(chunk["exch_ts_ns"][-1]))
    fills = [
        f
        for r in engine.drain_reports()
        if isinstance(r, OrderNotice)
        for f in r.report.update.fills
    ]
    assert fills
    assert fills[0].price_ticks == top.ask.price_ticks + 1
    assert engine.stats(name)["crossed"] == 0


def _fills(reports: list[Report]) -> list[Fill]:
    return [f for r in reports if isinstance(r, OrderNotice) for f in r.report.update.fills]


def test_a_market_order_takes_our_quotes_in_the_spread_within_its_reach() -> None:
    h = Harness()
    h.market(snapshot(T0 + 1, bid=100, ask=140))
    order_report(h.call(InsertOrder(PERP.name, Side.BUY, 0.002, 120.0, ClientOrderId(1))))
    order_report(h.call(InsertOrder(PERP.name, Side.SELL, 0.003, 125.0, ClientOrderId(2))))
    # At the market's best bid, behind its 10 lots: left to the prints, which say how much
    # of the level the order took.
    order_report(h.call(InsertOrder(PERP.name, Side.BUY, 0.001, 100.0, ClientOrderId(3))))
    # A sell that accepts no bid below 121 and a buy no ask above 124: neither reaches us.
    h.market(events([(MARKET_ORDER_EVENT, -1, T0 + 10, 121, 0)]))
    h.market(events([(MARKET_ORDER_EVENT, 1, T0 + 11, 124, 0)]))
    assert _fills(h.reports) == []
    # Reaching our quotes in the spread: each takes ours whole, at our price, as maker fills,
    # though it reaches no level of the market's (the sell) or only later (the buy).
    h.market(events([(MARKET_ORDER_EVENT, -1, T0 + 20, 99, 0)]))
    h.market(events([(MARKET_ORDER_EVENT, 1, T0 + 21, 141, 0)]))
    got = [
        (f.side, f.price_ticks, f.amount_lots, f.liquidity, f.time_ns) for f in _fills(h.reports)
    ]
    assert got == [
        (Side.BUY, 120, 2, Liquidity.MAKER, T0 + 20),
        (Side.SELL, 125, 3, Liquidity.MAKER, T0 + 21),
    ]
    # The order is not a print: the market's displayed book is untouched.
    top = h.engine.top_of_book(PERP.name)
    assert top.bid is not None
    assert top.ask is not None
    assert (top.bid.price_ticks, top.ask.price_ticks) == (100, 140)


def test_a_quote_inside_a_wide_spread_fills_at_the_rate_of_its_depth() -> None:
    """MODELS.md §4: orders reach depth delta at rate A exp(-k delta). A quote 10 ticks from a
    fixed mid, inside an 80-tick spread, fills at that rate per side (per step of dt, with
    chance 1 - exp(-A exp(-k delta) dt)), not at the far smaller rate of orders reaching the
    market's own best level 40 ticks away."""
    params = SyntheticParams(
        seed=5,
        sigma_ticks_per_sqrt_s=0.0,
        half_spread_ticks=40.0,
        arrival_a_per_s=10.0,
        arrival_k_per_tick=0.1,
        options=None,
    )
    depth_ticks = 10
    market = SyntheticMarket(params)
    engine = MatchingEngine([market.instrument()])
    name = params.instrument_name
    mid = round(market.mid_ticks)
    session = engine.open_session()
    placed_ns: dict[Side, int] = {}
    resting_ns = {Side.BUY: 0, Side.SELL: 0}
    fills = {Side.BUY: 0, Side.SELL: 0}

    def place(side: Side) -> None:
        price = mid - side.sign * depth_ticks
        engine.submit(session, InsertOrder(name, side, 0.001, float(price)), engine.now_ns)
        placed_ns[side] = engine.now_ns

    for chunk in market.chunks(400.0, chunk_s=0.2):
        engine.feed(name, chunk)
        if not placed_ns:
            engine.advance_to(int(chunk["exch_ts_ns"][0]))
            place(Side.BUY)
            place(Side.SELL)
        # To the chunk's end, not its last event: a quiet last step is resting time too.
        engine.advance_to(market.time_ns)
        for fill in _fills(engine.drain_reports()):
            fills[fill.side] += 1
            resting_ns[fill.side] += fill.time_ns - placed_ns[fill.side]
            place(fill.side)  # at the end of the chunk: the time in between is not counted
    step_s = params.step_ms / 1000
    reach_per_s = params.arrival_a_per_s * math.exp(-params.arrival_k_per_tick * depth_ticks)
    expected_per_s = -math.expm1(-reach_per_s * step_s) / step_s
    for side in (Side.BUY, Side.SELL):
        resting_s = (resting_ns[side] + engine.now_ns - placed_ns[side]) / 1e9
        assert fills[side] > 800  # a relative error of about 3.5% (one standard deviation)
        rate_per_s = fills[side] / resting_s
        assert abs(rate_per_s / expected_per_s - 1) < 0.1, (side, rate_per_s, expected_per_s)


def test_option_chain_is_black76_consistent() -> None:
    market = SyntheticMarket(SyntheticParams())
    chain = market.option_tickers()
    assert len(chain) == 3 * 7 * 2
    by_key = {(i.expiration_timestamp_s, i.strike_price, i.option_type): t for i, t in chain}
    for (expiry, strike, kind), call in by_key.items():
        if kind is not OptionType.CALL:
            continue
        put = by_key[(expiry, strike, OptionType.PUT)]
        assert call.forward is not None
        assert strike is not None
        assert abs((call.mark_price - put.mark_price) - (call.forward - strike)) < 1e-6
        assert call.delta is not None
        assert put.delta is not None
        assert abs(call.delta - put.delta - 1) < 1e-12


def test_black76_limits() -> None:
    assert black76.price(100, 90, 0.0, 0.5, OptionType.CALL) == 10
    assert black76.price(100, 90, 1.0, 0.0, OptionType.PUT) == 0
    atm = black76.price(100, 100, 1.0, 0.2, OptionType.CALL)
    assert abs(atm - 100 * (2 * 0.5 * (1 + math.erf(0.1 / math.sqrt(2))) - 1)) < 1e-9
