"""Regimes, volume candles and pressure, and the options expected move."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.domain.enums import InstrumentKind, OptionType
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import Ticker
from thalex_trio.strategy.estimators.market import VolatilityEstimate
from thalex_trio.strategy.params import RegimeParams, SignalParams
from thalex_trio.strategy.signals.expected_move import (
    ATM_STRADDLE_FACTOR,
    annual_to_ticks_per_sqrt_s,
    expected_move_spread_multiplier,
    implied_sigma_from_straddle,
    select_atm_straddle,
    ticks_per_sqrt_s_to_annual,
)
from thalex_trio.strategy.signals.regime import Regime, classify_regime, regime_adjustment
from thalex_trio.strategy.signals.volume_candles import VolumeCandles

P = RegimeParams()


def vol(fast: float, slow: float, drift: float = 0.0) -> VolatilityEstimate:
    return VolatilityEstimate(fast, (fast + slow) / 2, slow, drift)


def test_regimes_in_priority_order() -> None:
    assert classify_regime(P, None, 600.0, 1, None) is Regime.QUIET
    assert classify_regime(P, vol(1.0, 1.0), 600.0, 1, 1.0) is Regime.QUIET
    assert classify_regime(P, vol(25.0, 24.0), 600.0, 1, 1.0) is Regime.VOLATILE
    assert classify_regime(P, vol(3.0, 1.0), 600.0, 1, 1.0) is Regime.VOLATILE
    # Drift 0.1 ticks/s over 600 s is 60 ticks; sigma 1 tick/sqrt(s) gives ~24.5 ticks: 2.4 sigmas.
    assert classify_regime(P, vol(1.0, 1.0, 0.1), 600.0, 1, 1.0) is Regime.TRENDING
    assert classify_regime(P, vol(1.0, 1.0, 0.05), 600.0, 1, 1.0) is Regime.QUIET
    assert classify_regime(P, vol(25.0, 1.0), 600.0, 25, 1.0) is Regime.ILLIQUID
    assert classify_regime(P, vol(1.0, 1.0), 600.0, 1, 0.001) is Regime.ILLIQUID
    assert (
        classify_regime(RegimeParams(enabled=False), vol(25.0, 1.0), 600.0, 25, 0.0) is Regime.QUIET
    )


def test_each_regime_has_its_configured_adjustment() -> None:
    assert regime_adjustment(P, Regime.VOLATILE).gamma_multiplier == 2.0
    assert regime_adjustment(P, Regime.TRENDING).skew_multiplier == 1.5
    assert regime_adjustment(P, Regime.ILLIQUID).size_multiplier == 0.5
    assert regime_adjustment(P, Regime.QUIET).spread_multiplier == 1.0


def test_candles_close_on_volume_and_split_trades() -> None:
    candles = VolumeCandles(volume_lots=10, pressure_window=3, score_window=5)
    candles.on_trade(100, 4, True, 1)
    assert len(candles.closed) == 0
    assert candles.pressure == 1.0
    candles.on_trade(101, 16, False, 2)  # 6 closes the first candle, 10 fill the second
    assert [(c.buy_lots, c.sell_lots) for c in candles.closed] == [(4, 6), (0, 10)]
    assert candles.pressure == pytest.approx((4 - 16) / 20)
    assert candles.closed[1].open_ticks == 101


def test_candle_scores_on_a_trend_and_a_reversal() -> None:
    candles = VolumeCandles(volume_lots=10, pressure_window=3, score_window=5)
    for price in (100, 102, 104, 106, 108):
        candles.on_trade(price, 10, True, price)
    up = candles.scores
    assert up.momentum == pytest.approx(1.0)
    assert up.reversal == 0.0
    assert up.volatility_ticks == pytest.approx(math.sqrt((0 + 4 * 4) / 5))
    candles.on_trade(108, 5, False, 200)
    candles.on_trade(104, 5, False, 201)  # a falling candle against the uptrend, sellers
    assert candles.scores.reversal < 0.0
    assert 0.0 < candles.scores.exhaustion <= 1.0


@given(st.lists(st.tuples(st.integers(90, 110), st.integers(1, 30), st.booleans()), max_size=80))
def test_scores_stay_in_their_documented_ranges(trades: list[tuple[int, int, bool]]) -> None:
    candles = VolumeCandles(volume_lots=7, pressure_window=4, score_window=6)
    for i, (price, lots, buyer) in enumerate(trades):
        candles.on_trade(price, lots, buyer, i)
        scores = candles.scores
        assert -1.0 <= candles.pressure <= 1.0
        assert -1.0 <= scores.momentum <= 1.0
        assert -1.0 <= scores.reversal <= 1.0
        assert scores.volatility_ticks >= 0.0
        assert 0.0 <= scores.exhaustion <= 1.0


def black_scholes_straddle(spot: float, sigma: float, years: float) -> float:
    d1 = 0.5 * sigma * math.sqrt(years)
    cdf = 0.5 * (1 + math.erf(d1 / math.sqrt(2)))
    call = spot * (2 * cdf - 1)  # ATM forward, zero rates: C = S (N(d1) - N(-d1))
    return 2 * call


def test_straddle_factor_inverts_black_scholes_at_the_money() -> None:
    assert pytest.approx(0.7978845608) == ATM_STRADDLE_FACTOR
    for sigma in (0.3, 0.6, 1.0):
        straddle = black_scholes_straddle(60_000.0, sigma, 14 / 365)
        implied = implied_sigma_from_straddle(straddle, 60_000.0, 14.0)
        assert implied == pytest.approx(sigma, rel=0.01)


def option(name: str, expiry_s: int, strike: float, kind: OptionType) -> Instrument:
    return Instrument(
        name,
        InstrumentKind.OPTION,
        "BTCUSD",
        5.0,
        0.01,
        0.01,
        expiration_timestamp_s=expiry_s,
        strike_price=strike,
        option_type=kind,
    )


def test_select_atm_straddle_of_the_first_expiry_far_enough() -> None:
    day = 86_400
    now = 1_700_000_000
    near, far, later = now + 3 * day, now + 10 * day, now + 30 * day
    chain = []
    for expiry, tag in ((near, "N"), (far, "F"), (later, "L")):
        for strike in (55_000.0, 60_000.0, 65_000.0):
            for kind in OptionType:
                mark = 2000.0 if strike == 60_000.0 else 500.0
                instrument = option(f"{tag}-{strike}-{kind.value}", expiry, strike, kind)
                chain.append(
                    (instrument, Ticker(instrument.name, mark, 60_500.0, 0, forward=60_900.0))
                )
    move = select_atm_straddle(chain, 60_500.0, now, 7.0)
    assert move is not None
    assert move.expiry_s == far
    assert move.strike == 60_000.0
    assert move.straddle_price == 4000.0
    assert move.move_fraction == pytest.approx(4000.0 / 60_500.0)
    assert move.implied_sigma_annual == pytest.approx(
        4000.0 / (ATM_STRADDLE_FACTOR * 60_500.0 * math.sqrt(10 / 365))
    )
    assert select_atm_straddle(chain, 60_500.0, now, 40.0) is None
    # A strike with only a call does not count as a straddle.
    calls_only = [pair for pair in chain if pair[0].option_type is OptionType.CALL]
    assert select_atm_straddle(calls_only, 60_500.0, now, 7.0) is None


def test_vol_unit_conversions_round_trip_and_compare() -> None:
    ticks = annual_to_ticks_per_sqrt_s(0.5, 60_000.0, 0.1)
    assert ticks == pytest.approx(0.5 * 600_000 / math.sqrt(365 * 86400))
    assert ticks_per_sqrt_s_to_annual(ticks, 60_000.0, 0.1) == pytest.approx(0.5)
    params = SignalParams()
    assert expected_move_spread_multiplier(params, 2.0, 1.0) == params.options_widen_multiplier
    assert expected_move_spread_multiplier(params, 0.5, 1.0) == params.options_tighten_multiplier
    assert expected_move_spread_multiplier(params, 1.0, 1.0) == 1.0
