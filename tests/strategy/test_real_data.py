"""On the shared Binance BTCUSDT recording the estimators give finite, stable values and the
quoter's ladders stay valid (tick 0.1, lot 0.001 BTC; exchange times from the `T` fields)."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import orjson
import pytest

from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, TopOfBook, Trade
from thalex_trio.strategy.market_state import Exposure
from thalex_trio.strategy.params import EstimatorParams, StrategyParams
from thalex_trio.strategy.quoter import Quoter

DATA = Path(__file__).resolve().parents[3] / "shared/data/binance-btc-perp/btcusdt_20240719.gz"
NAME = "BTCUSDT"
SECONDS = 150


def _events() -> list[TopOfBook | Trade]:
    events: list[TopOfBook | Trade] = []
    first_ms: int | None = None
    with gzip.open(DATA, "rt") as lines:
        for line in lines:
            message = orjson.loads(line.split(" ", 1)[1])
            stream = message.get("stream", "")
            data = message.get("data", {})
            if stream.endswith("@bookTicker"):
                t_ms = data["T"]
                first_ms = first_ms or t_ms
                events.append(
                    TopOfBook(
                        NAME,
                        BookLevel(round(float(data["b"]) * 10), round(float(data["B"]) * 1000)),
                        BookLevel(round(float(data["a"]) * 10), round(float(data["A"]) * 1000)),
                        t_ms * 1_000_000,
                    )
                )
            elif stream.endswith("@trade"):
                t_ms = data["T"]
                side = Side.SELL if data["m"] else Side.BUY  # m: the buyer was the maker
                lots = max(1, round(float(data["q"]) * 1000))
                events.append(
                    Trade(NAME, round(float(data["p"]) * 10), lots, side, t_ms * 1_000_000)
                )
            else:
                continue
            if first_ms is not None and t_ms - first_ms > SECONDS * 1000:
                break
    return events


@pytest.fixture(scope="module")
def events() -> list[TopOfBook | Trade]:
    return _events()


def test_estimators_and_ladders_on_real_data(events: list[TopOfBook | Trade]) -> None:
    instrument = Instrument(NAME, InstrumentKind.PERPETUAL, "BTCUSD", 0.1, 0.001, 0.001)
    params = EstimatorParams(
        fast_window_s=15.0,
        mid_window_s=45.0,
        slow_window_s=120.0,
        warmup_s=15.0,
        intensity_window_s=120.0,
        intensity_max_depth_ticks=5.0,
        intensity_min_count=5,
    )
    quoter = Quoter(instrument, StrategyParams(levels_per_side=3, size_lots=5), params)
    slow_sigmas: list[float] = []
    next_decide_ns = 0
    ladders = 0
    for event in events:
        if isinstance(event, TopOfBook):
            quoter.on_top_of_book(event)
        else:
            quoter.on_trade(event)
        if event.time_ns >= next_decide_ns:
            next_decide_ns = event.time_ns + 100_000_000
            ladder = quoter.decide(event.time_ns, Exposure(position_lots=(ladders % 21 - 10) * 5))
            ladders += 1
            state = quoter.state
            if ladder.bids and state.best_ask_ticks is not None:
                assert ladder.bids[0].price_ticks < state.best_ask_ticks
            if ladder.asks and state.best_bid_ticks is not None:
                assert ladder.asks[0].price_ticks > state.best_bid_ticks
            vol = quoter.market.volatility
            if vol is not None:
                slow_sigmas.append(vol.slow_ticks_per_sqrt_s)
    assert ladders > 1000
    vol = quoter.market.volatility
    assert vol is not None
    for sigma in (vol.fast_ticks_per_sqrt_s, vol.mid_ticks_per_sqrt_s, vol.slow_ticks_per_sqrt_s):
        assert math.isfinite(sigma)
        assert 0.1 < sigma < 100.0  # BTC near 64k moves tens of 0.1-ticks per sqrt(s)
    # Stable: over the last minute the slow sigma moves by less than a factor of two.
    tail = slow_sigmas[-600:]
    assert max(tail) < 2 * min(tail)
    for fit in (quoter.market.bid_intensity, quoter.market.ask_intensity):
        assert fit is not None
        assert math.isfinite(fit.a_per_s)
        assert fit.a_per_s > 0
        assert math.isfinite(fit.k_per_tick)
        assert fit.k_per_tick > 0
    diagnostics = quoter.diagnostics()
    assert diagnostics.warmed_up
    assert -1.0 <= diagnostics.pressure <= 1.0
