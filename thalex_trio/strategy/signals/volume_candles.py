"""Volume candles, order-flow pressure and candle scores (MODELS.md §5).

A candle closes every `candle_volume_lots` of traded volume; a trade that overflows a candle is
split, its remainder opening the next one at the same price. Scores and their ranges:

- pressure in [-1, 1]: (aggressive buy - aggressive sell volume) / total over the newest
  `pressure_window_candles` closed candles plus the open one (the VAMP of the original system);
- momentum in [-1, 1]: net close-to-close move over the score window divided by the path length
  (the sum of absolute close-to-close moves), signed; 1 is a straight line up;
- reversal in [-1, 1]: when the newest candle moves against the momentum of the candles before
  it, its body/range ratio times the strength of that earlier momentum, signed like the new
  move; 0 otherwise;
- volatility_ticks in [0, inf): root mean square of close-to-close moves, ticks per candle;
- exhaustion in [0, 1]: |momentum| times how far the newest candle's flow in the trend's
  direction fell below the window average ((average - newest) / 2, clamped to [0, 1]).
"""

from __future__ import annotations

import math
from collections import deque
from itertools import pairwise

from attrs import frozen


@frozen
class VolumeCandle:
    """One closed candle: prices in ticks, volumes in lots, times in ns."""

    open_ticks: int
    high_ticks: int
    low_ticks: int
    close_ticks: int
    buy_lots: int
    sell_lots: int
    start_ns: int
    end_ns: int

    @property
    def flow(self) -> float:
        """(buy - sell) / (buy + sell), in [-1, 1]."""
        total = self.buy_lots + self.sell_lots
        return (self.buy_lots - self.sell_lots) / total if total else 0.0


@frozen
class CandleScores:
    """Scores over the score window, ranges as documented in the module."""

    momentum: float
    reversal: float
    volatility_ticks: float
    exhaustion: float


_NEUTRAL = CandleScores(0.0, 0.0, 0.0, 0.0)


class VolumeCandles:
    """Builds volume candles from trades and keeps pressure and scores current."""

    def __init__(self, volume_lots: int, pressure_window: int, score_window: int) -> None:
        self.volume_lots = volume_lots
        self.pressure_window = pressure_window
        self.score_window = score_window
        self.closed: deque[VolumeCandle] = deque(maxlen=max(pressure_window, score_window))
        self._open: list[int] | None = None  # open, high, low, close, buy, sell, start_ns
        # Both summaries of the closed candles are brought up to date when read, not at each
        # close: one book update can carry many trades and each can close many candles.
        self._scores = _NEUTRAL
        self._scores_stale = False
        self._window_buy = 0
        self._window_sell = 0
        self._window_stale = False

    def on_trade(
        self, price_ticks: int, amount_lots: int, buyer_aggressor: bool, time_ns: int
    ) -> None:
        """Fold one public trade in, closing as many candles as its volume fills."""
        remaining = amount_lots
        while remaining > 0:
            candle = self._open
            if candle is None:
                candle = [price_ticks, price_ticks, price_ticks, price_ticks, 0, 0, time_ns]
                self._open = candle
            candle[1] = max(candle[1], price_ticks)
            candle[2] = min(candle[2], price_ticks)
            candle[3] = price_ticks
            room = self.volume_lots - candle[4] - candle[5]
            take = min(room, remaining)
            candle[4 if buyer_aggressor else 5] += take
            remaining -= take
            if take == room:  # full: it closes, and the deque drops its oldest when full
                o, h, lo, c, buy, sell, start_ns = candle
                self.closed.append(VolumeCandle(o, h, lo, c, buy, sell, start_ns, time_ns))
                self._open = None
                self._scores_stale = self._window_stale = True

    @property
    def scores(self) -> CandleScores:
        """Momentum, reversal, volatility and exhaustion over the score window."""
        if self._scores_stale:
            self._scores = candle_scores(list(self.closed)[-self.score_window :])
            self._scores_stale = False
        return self._scores

    @property
    def pressure(self) -> float:
        """Aggressive flow imbalance in [-1, 1] (0 with no volume)."""
        if self._window_stale:
            window = list(self.closed)[-self.pressure_window :]
            self._window_buy = sum(candle.buy_lots for candle in window)
            self._window_sell = sum(candle.sell_lots for candle in window)
            self._window_stale = False
        buy = self._window_buy
        sell = self._window_sell
        if self._open is not None:
            buy += self._open[4]
            sell += self._open[5]
        total = buy + sell
        return (buy - sell) / total if total else 0.0


def _momentum(closes: list[int]) -> float:
    path = sum(abs(b - a) for a, b in pairwise(closes))
    return (closes[-1] - closes[0]) / path if path else 0.0


def candle_scores(candles: list[VolumeCandle]) -> CandleScores:
    """Momentum, reversal, volatility and exhaustion of `candles` (oldest first)."""
    if len(candles) < 2:
        return _NEUTRAL
    closes = [candles[0].open_ticks] + [c.close_ticks for c in candles]
    momentum = _momentum(closes)
    moves = [b - a for a, b in pairwise(closes)]
    volatility = math.sqrt(sum(m * m for m in moves) / len(moves))
    newest = candles[-1]
    earlier = _momentum(closes[:-1])
    span = newest.high_ticks - newest.low_ticks
    body = (newest.close_ticks - newest.open_ticks) / span if span else 0.0
    reversal = body * abs(earlier) if body * earlier < 0.0 else 0.0
    direction = 1.0 if momentum > 0 else -1.0 if momentum < 0 else 0.0
    average_flow = sum(c.flow for c in candles) / len(candles) * direction
    newest_flow = newest.flow * direction
    exhaustion = abs(momentum) * min(1.0, max(0.0, (average_flow - newest_flow) / 2.0))
    return CandleScores(momentum, reversal, volatility, exhaustion)
