"""The quote engine: market events in, a desired `QuoteLadder` out. Pure and synchronous.

The runtime feeds it every event of the quoted instrument (`on_top_of_book`, `on_trade`,
`on_ticker`, `on_index`, `on_external_price`, `on_own_fill`, `on_expected_move`) and asks
`decide(now_ns, exposure)` for the ladder. All times are exchange times in ns; prices and
sizes are converted to ticks and lots at this edge with the `Instrument`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from attrs import frozen

from thalex_trio.domain.enums import Side
from thalex_trio.domain.events import QuoteDecision
from thalex_trio.strategy.estimators.market import IntensityFit, MarketEstimator
from thalex_trio.strategy.estimators.own_fills import OwnFillIntensity
from thalex_trio.strategy.fair_value import fair_value_getter
from thalex_trio.strategy.ladder import LadderBuilder, LadderSpec, side_room_lots
from thalex_trio.strategy.market_state import MarketState
from thalex_trio.strategy.models import DepthModel
from thalex_trio.strategy.params import EstimatorParams, RegimeParams, SignalParams, StrategyParams
from thalex_trio.strategy.signals.expected_move import (
    annual_to_ticks_per_sqrt_s,
    expected_move_spread_multiplier,
)
from thalex_trio.strategy.signals.regime import Regime, classify_regime, regime_adjustment
from thalex_trio.strategy.signals.volume_candles import CandleScores, VolumeCandles

if TYPE_CHECKING:
    from thalex_trio.domain.events import RunId
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.market import IndexPrice, Ticker, TopOfBook, Trade
    from thalex_trio.domain.quote import QuoteLadder
    from thalex_trio.strategy.market_state import Exposure
    from thalex_trio.strategy.signals.expected_move import ExpectedMove


@frozen
class QuoterDiagnostics:
    """What the last decision used, for logs and persistence (units in the names)."""

    regime: Regime
    fair_ticks: float | None
    reservation_ticks: float | None
    half_spread_ticks: float | None
    sigma_ticks_per_sqrt_s: float
    bid_intensity: IntensityFit
    ask_intensity: IntensityFit
    pressure: float
    candle_scores: CandleScores
    options_spread_multiplier: float
    warmed_up: bool

    def decision(self, run_id: RunId, local_ns: int, ladder: QuoteLadder) -> QuoteDecision | None:
        """The store's record of a decision that sent on `ladder` (after risk); None without a
        fair value, which leaves nothing to measure the ladder against."""
        fair = self.fair_ticks
        if fair is None:
            return None
        reservation = self.reservation_ticks
        return QuoteDecision(
            run_id,
            local_ns,
            ladder,
            fair,
            fair if reservation is None else reservation,
            sigma=self.sigma_ticks_per_sqrt_s,
            regime=self.regime.value,
        )


class _Segment:
    """The quoting segment of one side, for the own-fill intensity fit."""

    __slots__ = ("depth_ticks", "fills", "start_ns")

    def __init__(self) -> None:
        self.start_ns = 0
        self.depth_ticks = math.nan
        self.fills = 0


class Quoter:
    """Holds the estimators and signals of one instrument and turns them into ladders."""

    def __init__(
        self,
        instrument: Instrument,
        strategy: StrategyParams | None = None,
        estimators: EstimatorParams | None = None,
        regimes: RegimeParams | None = None,
        signals: SignalParams | None = None,
    ) -> None:
        self.instrument = instrument
        self.strategy = strategy or StrategyParams()
        self.estimator_params = estimators or EstimatorParams()
        self.regime_params = regimes or RegimeParams()
        self.signal_params = signals or SignalParams()
        self.state = MarketState()
        self.market = MarketEstimator(self.estimator_params)
        self.own_bid = OwnFillIntensity(self.estimator_params)
        self.own_ask = OwnFillIntensity(self.estimator_params)
        sp = self.signal_params
        self.candles = VolumeCandles(
            sp.candle_volume_lots, sp.pressure_window_candles, sp.score_window_candles
        )
        self._model = DepthModel(self.strategy)
        self._ladder = LadderBuilder(
            LadderSpec.from_params(self.strategy, instrument.min_order_lots), instrument.name
        )
        self._fallback = IntensityFit(
            self.strategy.fallback_a_per_s, self.strategy.fallback_k_per_tick
        )
        self._mle_bid: IntensityFit | None = None
        self._mle_ask: IntensityFit | None = None
        self._next_mle_ns = 0
        self._bid_segment = _Segment()
        self._ask_segment = _Segment()
        self._implied_sigma_ticks_per_sqrt_s: float | None = None
        self._last: tuple[Regime, float | None, float | None, float | None, float] = (
            Regime.QUIET,
            None,
            None,
            None,
            self.strategy.fallback_sigma_ticks_per_sqrt_s,
        )
        self._options_multiplier = 1.0
        # Looked up per decision; a table avoids matching enum members (slow on Python 3.11).
        # Each regime's products with the strategy's constants are taken once here: gamma,
        # the half-spread multiplier before the options factor, the skew multiplier and the
        # size multiplier. Products are formed in the order `decide` used to form them, so
        # they are the same floats.
        s = self.strategy
        self._regime_factors: dict[Regime, tuple[float, float, float, float]] = {}
        for regime in Regime:
            adjust = regime_adjustment(self.regime_params, regime)
            self._regime_factors[regime] = (
                s.gamma_per_tick * adjust.gamma_multiplier,
                s.half_spread_multiplier * adjust.spread_multiplier,
                s.skew_multiplier * adjust.skew_multiplier,
                adjust.size_multiplier,
            )
        self._fair_value = fair_value_getter(s.fair_value)
        self._refit_interval_ns = round(self.estimator_params.intensity_refit_interval_s * 1e9)

    # -- events ------------------------------------------------------------------------------

    def on_top_of_book(self, top: TopOfBook) -> None:
        """Best bid and ask of the quoted instrument."""
        s = self.state
        bid = top.bid
        ask = top.ask
        self.state = MarketState(
            None if bid is None else bid.price_ticks,
            None if ask is None else ask.price_ticks,
            0 if bid is None else bid.amount_lots,
            0 if ask is None else ask.amount_lots,
            s.mark_ticks,
            s.index_ticks,
            s.external_ticks,
            top.time_ns,
        )
        if bid is not None and ask is not None:
            self.market.on_mid(top.time_ns, 0.5 * (bid.price_ticks + ask.price_ticks))

    def on_trade(self, trade: Trade) -> None:
        """A public trade of the quoted instrument."""
        buyer = trade.aggressor is Side.BUY
        self.market.on_trade(trade.time_ns, trade.price_ticks, buyer)
        self.candles.on_trade(trade.price_ticks, trade.amount_lots, buyer, trade.time_ns)

    def on_ticker(self, ticker: Ticker) -> None:
        """Mark and index from the quoted instrument's ticker."""
        to_ticks = self.instrument.fractional_ticks
        self._set_reference(
            to_ticks(ticker.mark_price), to_ticks(ticker.index_price), self.state.external_ticks
        )

    def on_index(self, index: IndexPrice) -> None:
        """An index print of the underlying."""
        ticks = self.instrument.fractional_ticks(index.price)
        self._set_reference(self.state.mark_ticks, ticks, self.state.external_ticks)

    def on_external_price(self, price: float, time_ns: int) -> None:
        """A price from an external oracle (used when the fair value source is `external`)."""
        ticks = self.instrument.fractional_ticks(price)
        self._set_reference(self.state.mark_ticks, self.state.index_ticks, ticks)
        self.market.advance_to(time_ns)

    def on_own_fill(self, side: Side, time_ns: int) -> None:
        """One of our orders filled (once per fill, whatever its size)."""
        segment = self._bid_segment if side is Side.BUY else self._ask_segment
        segment.fills += 1
        self.market.advance_to(time_ns)

    def on_expected_move(self, move: ExpectedMove | None) -> None:
        """The options expected move (None when no straddle qualifies)."""
        if move is None:
            self._implied_sigma_ticks_per_sqrt_s = None
            return
        self._implied_sigma_ticks_per_sqrt_s = annual_to_ticks_per_sqrt_s(
            move.implied_sigma_annual, move.index_price, self.instrument.tick_size
        )

    def _set_reference(
        self, mark: float | None, index: float | None, external: float | None
    ) -> None:
        s = self.state
        self.state = MarketState(
            s.best_bid_ticks,
            s.best_ask_ticks,
            s.best_bid_lots,
            s.best_ask_lots,
            mark,
            index,
            external,
            s.time_ns,
        )

    # -- decision ----------------------------------------------------------------------------

    def intensities(self) -> tuple[IntensityFit, IntensityFit]:
        """(bid, ask) A and k in use: own-fill MLE, else the depth-count fit, else fallbacks."""
        market = self.market
        bid = self._mle_bid or market.bid_intensity or self._fallback
        ask = self._mle_ask or market.ask_intensity or self._fallback
        return bid, ask

    def decide(self, now_ns: int, exposure: Exposure) -> QuoteLadder:
        """The desired ladder at `now_ns` for `exposure`; empty when fair value is unknown."""
        market = self.market
        market.advance_to(now_ns)
        strategy = self.strategy
        state = self.state
        fair = self._fair_value(state)
        if fair is None:
            self._close_segments(now_ns, None, None, None)
            return self._ladder.empty()
        volatility = market.volatility
        if volatility is None:
            sigma = strategy.fallback_sigma_ticks_per_sqrt_s
            realised = math.nan
            drift = strategy.drift_ticks_per_s
        else:
            sigma = volatility.mid_ticks_per_sqrt_s
            realised = volatility.slow_ticks_per_sqrt_s
            drift = (
                volatility.drift_ticks_per_s
                if strategy.use_estimated_drift
                else strategy.drift_ticks_per_s
            )
        implied = self._implied_sigma_ticks_per_sqrt_s
        options_multiplier = 1.0
        if implied is not None:
            sigma = max(sigma, implied * self.signal_params.options_vol_floor_fraction)
            if volatility is not None:
                options_multiplier = expected_move_spread_multiplier(
                    self.signal_params, implied, realised
                )
        if self.estimator_params.own_fill_mle and now_ns >= self._next_mle_ns:
            self._mle_bid = self.own_bid.fit()
            self._mle_ask = self.own_ask.fit()
            self._next_mle_ns = now_ns + self._refit_interval_ns
        # `self.intensities()`, inlined.
        bid_fit = self._mle_bid or market.bid_intensity or self._fallback
        ask_fit = self._mle_ask or market.ask_intensity or self._fallback
        arrival = None
        if market.bid_intensity is not None and market.ask_intensity is not None:
            arrival = min(market.bid_intensity.a_per_s, market.ask_intensity.a_per_s)
        regime = classify_regime(
            self.regime_params,
            volatility,
            self.estimator_params.slow_window_s,
            state.spread_ticks,
            arrival,
        )
        gamma, spread_base, skew_mult, size_mult = self._regime_factors[regime]
        inventory = exposure.position_lots / strategy.size_lots
        half_b, skew_b, half_a, skew_a = self._model.components(
            now_ns * 1e-9, inventory, gamma, sigma, bid_fit, ask_fit, drift
        )
        spread_mult = spread_base * options_multiplier
        bid_room, ask_room = side_room_lots(strategy.position_limit_lots, exposure)
        if not math.isfinite(skew_b):
            skew_b, bid_room = 0.0, 0  # the bounded model has no bid at the inventory bound
        if not math.isfinite(skew_a):
            skew_a, ask_room = 0.0, 0
        bid_depth = spread_mult * half_b + skew_mult * skew_b
        ask_depth = spread_mult * half_a - skew_mult * skew_a
        half = 0.5 * (bid_depth + ask_depth)
        shift = self.candles.pressure * self.signal_params.pressure_max_shift_ticks
        reservation = fair + 0.5 * (ask_depth - bid_depth) + shift
        ladder = self._ladder.build(
            fair_ticks=fair,
            reservation_ticks=reservation,
            half_spread_ticks=half,
            best_bid_ticks=state.best_bid_ticks,
            best_ask_ticks=state.best_ask_ticks,
            inventory_units=inventory,
            size_multiplier=size_mult,
            bid_room_lots=bid_room,
            ask_room_lots=ask_room,
        )
        self._options_multiplier = options_multiplier
        self._last = (regime, fair, reservation, half, sigma)
        best_bid = ladder.bids[0].price_ticks if ladder.bids else None
        best_ask = ladder.asks[0].price_ticks if ladder.asks else None
        self._close_segments(now_ns, fair, best_bid, best_ask)
        return ladder

    def _close_segments(
        self, now_ns: int, fair: float | None, bid_ticks: int | None, ask_ticks: int | None
    ) -> None:
        # Both sides written out rather than looped over: this runs on every decision.
        bid = self._bid_segment
        if bid.start_ns and now_ns > bid.start_ns:
            self.own_bid.add_segment(bid.depth_ticks, (now_ns - bid.start_ns) * 1e-9, bid.fills)
        bid.start_ns = now_ns
        bid.fills = 0
        bid.depth_ticks = math.nan if bid_ticks is None or fair is None else fair - bid_ticks
        ask = self._ask_segment
        if ask.start_ns and now_ns > ask.start_ns:
            self.own_ask.add_segment(ask.depth_ticks, (now_ns - ask.start_ns) * 1e-9, ask.fills)
        ask.start_ns = now_ns
        ask.fills = 0
        ask.depth_ticks = math.nan if ask_ticks is None or fair is None else -(fair - ask_ticks)

    def diagnostics(self) -> QuoterDiagnostics:
        """What the last `decide` used."""
        regime, fair, reservation, half, sigma = self._last
        bid, ask = self.intensities()
        return QuoterDiagnostics(
            regime=regime,
            fair_ticks=fair,
            reservation_ticks=reservation,
            half_spread_ticks=half,
            sigma_ticks_per_sqrt_s=sigma,
            bid_intensity=bid,
            ask_intensity=ask,
            pressure=self.candles.pressure,
            candle_scores=self.candles.scores,
            options_spread_multiplier=self._options_multiplier,
            warmed_up=self.market.volatility is not None,
        )
