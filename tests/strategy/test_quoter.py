"""The quoter end to end on synthetic events: fair value, models, limits, pressure, fills."""

from __future__ import annotations

import pytest

from tests.strategy.synthetic import FAST_REFITS, synthetic_market
from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, IndexPrice, Ticker, TopOfBook, Trade
from thalex_trio.strategy.market_state import Exposure
from thalex_trio.strategy.params import (
    EstimatorParams,
    FairValueSource,
    QuoteModel,
    RegimeAdjustment,
    RegimeParams,
    SignalParams,
    StrategyParams,
)
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.strategy.signals.expected_move import ExpectedMove
from thalex_trio.strategy.signals.regime import Regime

NAME = "BTC-PERPETUAL"
INSTRUMENT = Instrument(NAME, InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)
T0 = 1_700_000_000_000_000_000


def book(bid: int, ask: int, t: int = T0, bid_lots: int = 10, ask_lots: int = 10) -> TopOfBook:
    return TopOfBook(NAME, BookLevel(bid, bid_lots), BookLevel(ask, ask_lots), t)


def quoter(**strategy: object) -> Quoter:
    params = StrategyParams(**strategy)  # type: ignore[arg-type]  # each test passes real field types
    return Quoter(
        INSTRUMENT,
        params,
        EstimatorParams(warmup_s=5.0),
        signals=SignalParams(pressure_max_shift_ticks=0.0),
    )


def test_no_fair_value_means_no_quotes() -> None:
    q = quoter()
    assert q.decide(T0, Exposure()).bids == ()
    q = quoter(fair_value=FairValueSource.MARK)
    q.on_top_of_book(book(1000, 1010))
    assert q.decide(T0, Exposure()).asks == ()
    q.on_ticker(Ticker(NAME, 1005.5, 1004.0, T0))
    assert q.diagnostics().fair_ticks is None  # diagnostics follow decide, not events
    q.decide(T0, Exposure())
    assert q.diagnostics().fair_ticks == 1005.5


@pytest.mark.parametrize("model", list(QuoteModel))
def test_every_model_skews_against_inventory(model: QuoteModel) -> None:
    q = quoter(
        model=model,
        levels_per_side=1,
        size_lots=10,
        position_limit_lots=100,
        min_half_spread_ticks=0.01,
    )
    q.on_top_of_book(book(900, 1100))
    flat = q.decide(T0, Exposure(position_lots=0))
    long = q.decide(T0 + 1, Exposure(position_lots=50))
    short = q.decide(T0 + 2, Exposure(position_lots=-50))
    assert long.bids[0].price_ticks < flat.bids[0].price_ticks
    assert long.asks[0].price_ticks < flat.asks[0].price_ticks
    assert short.asks[0].price_ticks > flat.asks[0].price_ticks
    assert flat.bids[0].price_ticks < 1000 < flat.asks[0].price_ticks


def test_position_limit_withdraws_the_growing_side() -> None:
    q = quoter(position_limit_lots=20, size_lots=5)
    q.on_top_of_book(book(999, 1001))
    at_limit = q.decide(T0, Exposure(position_lots=20))
    assert at_limit.bids == ()
    assert at_limit.asks != ()
    near = q.decide(T0 + 1, Exposure(position_lots=12))
    assert sum(x.amount_lots for x in near.bids) == 8


def test_bounded_model_has_no_bid_at_its_inventory_bound() -> None:
    q = quoter(model=QuoteModel.GLFT_BOUNDED, position_limit_lots=21, size_lots=7)
    q.on_top_of_book(book(990, 1010))
    ladder = q.decide(T0, Exposure(position_lots=21))  # q = 3 = Q
    assert ladder.bids == ()
    assert ladder.asks != ()


def test_pressure_shifts_the_quotes_by_a_bounded_number_of_ticks() -> None:
    signals = SignalParams(pressure_max_shift_ticks=3.0, candle_volume_lots=5)
    plain = Quoter(
        INSTRUMENT,
        StrategyParams(levels_per_side=1),
        signals=SignalParams(pressure_max_shift_ticks=0.0),
    )
    pushed = Quoter(INSTRUMENT, StrategyParams(levels_per_side=1), signals=signals)
    for q in (plain, pushed):
        q.on_top_of_book(book(999, 1001))
        for i in range(10):
            q.on_trade(Trade(NAME, 1010, 3, Side.BUY, T0 + i))
    a = plain.decide(T0 + 100, Exposure())
    b = pushed.decide(T0 + 100, Exposure())
    assert pushed.candles.pressure == 1.0
    assert b.bids[0].price_ticks - a.bids[0].price_ticks == 3
    assert b.asks[0].price_ticks - a.asks[0].price_ticks == 3


def test_index_and_external_sources() -> None:
    q = quoter(fair_value=FairValueSource.INDEX, levels_per_side=1)
    q.on_top_of_book(book(900, 1100))  # wide: illiquid, half size
    q.on_index(IndexPrice("BTCUSD", 950.0, T0))
    # Half of one lot is below the minimum order: the level shrinks to it, not away.
    assert [b.amount_lots for b in q.decide(T0, Exposure()).bids] == [1]
    q.on_top_of_book(book(945, 955))
    q.on_index(IndexPrice("BTCUSD", 950.0, T0))
    assert q.decide(T0, Exposure()).bids[0].price_ticks < 950
    e = quoter(fair_value=FairValueSource.EXTERNAL, levels_per_side=1)
    e.on_top_of_book(book(1045, 1055))
    e.on_external_price(1050.0, T0)
    assert e.decide(T0, Exposure()).asks[0].price_ticks > 1050


def test_warm_up_estimates_regime_and_own_fill_mle() -> None:
    q = Quoter(INSTRUMENT, StrategyParams(levels_per_side=2), FAST_REFITS)
    assert q.diagnostics().warmed_up is False
    for i, event in enumerate(synthetic_market(11, 65.0, 0.1, 2.0, 3.0, 0.8, start_ns=T0)):
        if event.is_trade:
            side = Side.BUY if event.buyer else Side.SELL
            q.on_trade(Trade(NAME, round(event.price_ticks), 1, side, event.time_ns))
        else:
            mid = round(event.price_ticks)
            q.on_top_of_book(book(mid - 1, mid + 1, event.time_ns))
            ladder = q.decide(event.time_ns, Exposure())
            if i % 7 == 0 and ladder.bids:
                q.on_own_fill(Side.BUY, event.time_ns)
    diagnostics = q.diagnostics()
    assert diagnostics.warmed_up
    assert diagnostics.sigma_ticks_per_sqrt_s == pytest.approx(2.0, rel=0.3)
    assert diagnostics.regime in set(Regime)
    assert q.own_bid.total_fills >= 5
    assert q.intensities()[0] is not q.market.bid_intensity  # the MLE took over on the bid
    assert q.intensities()[1] is q.market.ask_intensity


def test_implied_vol_floor_and_widening() -> None:
    q = Quoter(
        INSTRUMENT,
        StrategyParams(levels_per_side=1),
        EstimatorParams(warmup_s=1.0),
        signals=SignalParams(options_vol_floor_fraction=1.0, pressure_max_shift_ticks=0.0),
    )
    q.on_top_of_book(book(999, 1001))
    q.on_expected_move(ExpectedMove(0, 1000.0, 100.0, 1000.0, 7.0, 0.1, 10.0))
    q.decide(T0, Exposure())
    implied_ticks = 10.0 * 1000.0 / 5615.69  # 1000% a year at 1000 ticks, above the fallback
    assert q.diagnostics().sigma_ticks_per_sqrt_s == pytest.approx(implied_ticks, rel=1e-3)
    q.on_expected_move(None)
    q.decide(T0 + 1, Exposure())
    assert (
        q.diagnostics().sigma_ticks_per_sqrt_s == StrategyParams().fallback_sigma_ticks_per_sqrt_s
    )


def test_a_regime_shrinks_sizes_to_the_minimum_but_only_a_zero_multiplier_withdraws() -> None:
    def sizes(size_lots: int, illiquid_size_multiplier: float) -> list[int]:
        regimes = RegimeParams(illiquid=RegimeAdjustment(size_multiplier=illiquid_size_multiplier))
        q = Quoter(
            INSTRUMENT,
            StrategyParams(levels_per_side=2, size_lots=size_lots, position_limit_lots=100),
            EstimatorParams(warmup_s=5.0),
            regimes,
            SignalParams(pressure_max_shift_ticks=0.0),
        )
        q.on_top_of_book(book(900, 1100))  # 200 ticks wide: illiquid
        ladder = q.decide(T0, Exposure())
        assert [b.amount_lots for b in ladder.bids] == [a.amount_lots for a in ladder.asks]
        return [b.amount_lots for b in ladder.bids]

    assert sizes(8, 0.5) == [4, 4]
    assert sizes(3, 0.5) == [1, 1]  # 1.5 rounds down to whole lots
    assert sizes(1, 0.5) == [1, 1]  # 0.5 is below the minimum: the minimum
    assert sizes(1, 0.01) == [1, 1]
    assert sizes(8, 0.0) == []  # a regime configured to stand aside
