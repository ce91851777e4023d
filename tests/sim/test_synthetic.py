"""The synthetic market: determinism, known parameters recovered, options, fills on quotes."""

from __future__ import annotations

import math

import numpy as np

from thalex_trio.domain.enums import OptionType, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.reports import OrderNotice
from thalex_trio.sim.engine.requests import InsertOrder
from thalex_trio.sim.events import MARK_EVENT, TRADE_EVENT, concat_events
from thalex_trio.sim.market import black76
from thalex_trio.sim.market.params import QUIET, VOLATILE, SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket


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
