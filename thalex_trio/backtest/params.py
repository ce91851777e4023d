"""Backtest settings: the instrument grid of foreign data, the decision cadence and the feed
latency model. Plain validated fields, so the config loader can build them from a `[backtest]`
TOML table.
"""

from __future__ import annotations

import enum

from attrs import field, frozen

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.validation import non_negative, positive


class FeedLatencyModel(enum.Enum):
    """Where the bot's receive time of market data comes from."""

    DATA = "data"
    """The data's own local timestamps (our recordings, event arrays); Binance captures have
    none that can be trusted, so they fall back to `feed_latency_ms`."""
    CONSTANT = "constant"
    """Exchange time plus `feed_latency_ms`."""


@frozen
class BacktestParams:
    """How a backtest reads its data and when the strategy decides.

    - `tick_size`, `lot_size`, `min_order_lots`: the instrument grid used to read data that
      does not carry it (Binance captures, event arrays) and to quote; BTCUSDT is 0.1 / 0.001.
    - `requote_interval_ms`: the strategy decides at most this often in market time (plus on
      each fill report); between decisions every event still updates the book, the queues and
      the fill logic. A grid point where nothing the strategy acts on changed is skipped,
      unless `max_idle_ms` passed since the last decision.
    - `feed_latency` / `feed_latency_ms`: the market-data latency model.
    - `markout_horizons_s`: horizons of the markout table.
    - `sample_interval_ms`: grid of the mid / PnL curve used for markouts, Sharpe and charts.
    - `charts`: write the PNG charts; `store`: also write the run to the store (when one is
      configured by `THALEX_TRIO_DSN` or persistence settings).
    """

    tick_size: float = field(default=0.1, validator=positive)
    lot_size: float = field(default=0.001, validator=positive)
    min_order_lots: int = field(default=1, validator=positive)
    requote_interval_ms: float = field(default=100.0, validator=positive)
    max_idle_ms: float = field(default=1000.0, validator=positive)
    feed_latency: FeedLatencyModel = FeedLatencyModel.DATA
    feed_latency_ms: float = field(default=0.0, validator=non_negative)
    markout_horizons_s: tuple[int, ...] = (1, 5, 30, 60)
    sample_interval_ms: float = field(default=100.0, validator=positive)
    charts: bool = True
    store: bool = False

    def instrument(self, name: str, underlying: str) -> Instrument:
        """The quoted perpetual on this grid."""
        return Instrument(
            name,
            InstrumentKind.PERPETUAL,
            underlying,
            self.tick_size,
            self.lot_size,
            self.lot_size * self.min_order_lots,
        )

    @property
    def feed_latency_ns(self) -> int | None:
        """The constant feed latency, or None to take it from the data."""
        if self.feed_latency is FeedLatencyModel.DATA:
            return None
        return round(self.feed_latency_ms * 1e6)
