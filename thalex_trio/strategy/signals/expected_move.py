"""Expected move from options: the ATM straddle of the first expiry at least N days out.

An ATM straddle is worth about sqrt(2/pi) * sigma * S * sqrt(T) (exact to first order in
sigma sqrt(T) under Black-Scholes and exact under Bachelier), so the implied volatility it
corresponds to is straddle / (ATM_STRADDLE_FACTOR * index * sqrt(days / 365)). The original
system mixed 0.85 and 1.0 for this factor; this module uses one named constant everywhere.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from attrs import frozen

from thalex_trio.domain.enums import InstrumentKind, OptionType

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.market import Ticker
    from thalex_trio.strategy.params import SignalParams

ATM_STRADDLE_FACTOR = math.sqrt(2.0 / math.pi)
"""Straddle / (sigma * S * sqrt(T)) at the money: sqrt(2/pi) ~ 0.798."""

SECONDS_PER_YEAR = 365.0 * 86400.0
"""The year of `days / 365`: implied and realised vols are annualised on the same clock."""


@frozen
class ExpectedMove:
    """The straddle chosen and what it implies.

    `move_fraction` is straddle / index (the expected absolute move to expiry as a fraction of
    the index); `implied_sigma_annual` is the lognormal-equivalent volatility per sqrt(year).
    """

    expiry_s: int
    strike: float
    straddle_price: float
    index_price: float
    days_to_expiry: float
    move_fraction: float
    implied_sigma_annual: float


def implied_sigma_from_straddle(straddle_price: float, index_price: float, days: float) -> float:
    """Annualised volatility whose ATM straddle over `days` is `straddle_price`."""
    return straddle_price / (ATM_STRADDLE_FACTOR * index_price * math.sqrt(days / 365.0))


def annual_to_ticks_per_sqrt_s(sigma_annual: float, index_price: float, tick_size: float) -> float:
    """A relative annual volatility as ticks/sqrt(s) at `index_price`."""
    return sigma_annual * index_price / tick_size / math.sqrt(SECONDS_PER_YEAR)


def ticks_per_sqrt_s_to_annual(sigma_ticks: float, index_price: float, tick_size: float) -> float:
    """Ticks/sqrt(s) at `index_price` as a relative annual volatility."""
    return sigma_ticks * tick_size / index_price * math.sqrt(SECONDS_PER_YEAR)


def select_atm_straddle(
    options: Iterable[tuple[Instrument, Ticker]],
    index_price: float,
    now_s: float,
    min_days: float,
) -> ExpectedMove | None:
    """The ATM straddle of the first expiry at least `min_days` out, or None.

    Only expiries with a call and a put at the same strike, both with a positive mark, count.
    At the chosen expiry the strike nearest the forward (the tickers' `forward`, else the
    index) wins.
    """
    by_expiry: dict[int, dict[float, dict[OptionType, Ticker]]] = {}
    for instrument, ticker in options:
        expiry = instrument.expiration_timestamp_s
        if (
            instrument.kind is not InstrumentKind.OPTION
            or expiry is None
            or instrument.strike_price is None
            or instrument.option_type is None
            or not ticker.mark_price > 0.0
            or (expiry - now_s) / 86400.0 < min_days
        ):
            continue
        strikes = by_expiry.setdefault(expiry, {})
        strikes.setdefault(instrument.strike_price, {})[instrument.option_type] = ticker
    for expiry in sorted(by_expiry):
        pairs = {k: v for k, v in by_expiry[expiry].items() if len(v) == 2}
        if not pairs:
            continue
        sample = next(iter(pairs.values()))[OptionType.CALL]
        forward = sample.forward if sample.forward else index_price
        strike = min(pairs, key=lambda k: (abs(k - forward), k))
        pair = pairs[strike]
        straddle = pair[OptionType.CALL].mark_price + pair[OptionType.PUT].mark_price
        days = (expiry - now_s) / 86400.0
        return ExpectedMove(
            expiry_s=expiry,
            strike=strike,
            straddle_price=straddle,
            index_price=index_price,
            days_to_expiry=days,
            move_fraction=straddle / index_price,
            implied_sigma_annual=implied_sigma_from_straddle(straddle, index_price, days),
        )
    return None


def expected_move_spread_multiplier(
    params: SignalParams, implied_sigma: float, realised_sigma: float
) -> float:
    """Widen when options price more movement than realised, tighten when they price less.

    Both sigmas in the same units (the ratio is unit-free). Implied / realised >=
    `options_widen_ratio` gives `options_widen_multiplier`, <= `options_tighten_ratio` gives
    `options_tighten_multiplier`, anything between gives 1.
    """
    if realised_sigma <= 0.0 or not math.isfinite(implied_sigma):
        return 1.0
    ratio = implied_sigma / realised_sigma
    if ratio >= params.options_widen_ratio:
        return params.options_widen_multiplier
    if ratio <= params.options_tighten_ratio:
        return params.options_tighten_multiplier
    return 1.0
