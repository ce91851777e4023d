"""The same GLFT ladder run in hftbacktest, so `scripts/bench.py backtest` can compare the two
engines on equal work: the same normalised events, the same decision cadence, the same closed
form (`kernels.glft`), the same latencies, fees, queue model (conservative = hftbacktest's
risk-averse one) and partial fills.

It is a benchmark reference, not a second strategy: sigma, A and k are the configuration's
fallback values (our quoter estimates them online, which is more work per decision), and the
ladder is `levels_per_side` levels `level_spacing_ticks` apart, quoted post-only around the mid
and re-placed every `requote_interval_ms`. hftbacktest is optional and not a project
dependency (it pins older numpy and numba); the bench imports it when it is importable.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np
from attrs import frozen
from numba import njit

from thalex_trio.kernels.glft import glft_half_spread_and_skew_ticks

if TYPE_CHECKING:
    from types import ModuleType

    from numpy.typing import NDArray

    from thalex_trio.backtest.settings import BacktestConfig
    from thalex_trio.sim.events import Events

_NO_BID_TICKS = -(2**62)  # below hftbacktest's INVALID_MIN check: any real bid is above it
_NO_ASK_TICKS = 2**62


class _Depth(Protocol):
    best_bid_tick: int
    best_ask_tick: int


class _Order(Protocol):
    order_id: int
    price_tick: int
    side: int
    cancellable: bool


class _OrderValues(Protocol):
    def has_next(self) -> bool: ...
    def get(self) -> _Order: ...


class _Orders(Protocol):
    def values(self) -> _OrderValues: ...
    def __contains__(self, order_id: int) -> bool: ...


class _Backtest(Protocol):
    """The part of hftbacktest's `HashMapMarketDepthBacktest` the ladder uses."""

    def elapse(self, duration_ns: int) -> int: ...
    def clear_inactive_orders(self, asset_no: int) -> None: ...
    def depth(self, asset_no: int) -> _Depth: ...
    def position(self, asset_no: int) -> float: ...
    def orders(self, asset_no: int) -> _Orders: ...
    def cancel(self, asset_no: int, order_id: int, wait: bool) -> int: ...
    def submit_buy_order(
        self,
        asset_no: int,
        order_id: int,
        price: float,
        qty: float,
        time_in_force: int,
        order_type: int,
        wait: bool,
    ) -> int: ...
    def submit_sell_order(
        self,
        asset_no: int,
        order_id: int,
        price: float,
        qty: float,
        time_in_force: int,
        order_type: int,
        wait: bool,
    ) -> int: ...


@frozen
class LadderParams:
    """The GLFT ladder in ticks and lots (from the backtest configuration)."""

    gamma_per_tick: float
    sigma_ticks_per_sqrt_s: float
    a_per_s: float
    k_per_tick: float
    min_half_spread_ticks: float
    levels: int
    spacing_ticks: int
    size_lots: int
    limit_lots: int
    step_ns: int

    @classmethod
    def from_config(cls, config: BacktestConfig) -> LadderParams:
        """The ladder our quoter would quote with its fallback estimates."""
        s = config.app.strategy
        return cls(
            gamma_per_tick=s.gamma_per_tick,
            sigma_ticks_per_sqrt_s=s.fallback_sigma_ticks_per_sqrt_s,
            a_per_s=s.fallback_a_per_s,
            k_per_tick=s.fallback_k_per_tick,
            min_half_spread_ticks=s.min_half_spread_ticks,
            levels=s.levels_per_side,
            spacing_ticks=max(round(s.level_spacing_ticks), 1),
            size_lots=s.size_lots,
            limit_lots=s.position_limit_lots,
            step_ns=max(round(config.backtest.requote_interval_ms * 1e6), 1),
        )


@frozen
class HftbacktestRun:
    """One timed run: events replayed, our fills, decisions, and the seconds it took."""

    events: int
    fills: int
    decisions: int
    seconds: float


@njit(cache=False)
def _glft_ladder(
    hbt: _Backtest,
    p: NDArray[np.float64],
    buy: int,
    gtx: int,
    limit: int,
    tick_size: float,
    lot_size: float,
) -> int:
    gamma, sigma, a, k, min_half = p[0], p[1], p[2], p[3], p[4]
    levels, spacing, size_lots, limit_lots, step_ns = (
        int(p[5]),
        int(p[6]),
        int(p[7]),
        int(p[8]),
        int(p[9]),
    )
    want_bid = np.empty(levels, np.int64)
    want_ask = np.empty(levels, np.int64)
    decisions = 0
    while hbt.elapse(step_ns) == 0:
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        best_bid = depth.best_bid_tick
        best_ask = depth.best_ask_tick
        if best_bid <= _NO_BID_TICKS or best_ask >= _NO_ASK_TICKS:
            continue
        decisions += 1
        position_lots = round(hbt.position(0) / lot_size)
        half, skew = glft_half_spread_and_skew_ticks(
            position_lots / size_lots, gamma, sigma, a, k, 0.0, 0.0
        )
        half = max(half, min_half)
        mid = 0.5 * (best_bid + best_ask)
        # Post-only: never at or through the other side.
        bid0 = min(math.floor(mid - half - skew), best_ask - 1)
        ask0 = max(math.ceil(mid + half - skew), best_bid + 1)
        quote_bids = position_lots < limit_lots
        quote_asks = position_lots > -limit_lots
        for i in range(levels):
            want_bid[i] = bid0 - i * spacing
            want_ask[i] = ask0 + i * spacing
        orders = hbt.orders(0)
        values = orders.values()
        while values.has_next():
            order = values.get()
            if not order.cancellable:
                continue
            keep = False
            for i in range(levels):
                if order.side == buy:
                    keep = keep or (quote_bids and order.price_tick == want_bid[i])
                else:
                    keep = keep or (quote_asks and order.price_tick == want_ask[i])
            if not keep:
                hbt.cancel(0, order.order_id, False)
        for i in range(levels):
            bid_id = want_bid[i] * 2
            ask_id = want_ask[i] * 2 + 1
            if quote_bids and bid_id not in orders:
                hbt.submit_buy_order(
                    0, bid_id, want_bid[i] * tick_size, size_lots * lot_size, gtx, limit, False
                )
            if quote_asks and ask_id not in orders:
                hbt.submit_sell_order(
                    0, ask_id, want_ask[i] * tick_size, size_lots * lot_size, gtx, limit, False
                )
    return decisions


def to_hftbacktest_events(
    hbt: ModuleType, events: Events, tick_size: float, lot_size: float
) -> NDArray[np.void]:
    """Our normalised events as hftbacktest's `event_dtype` records (exchange and local)."""
    dtype = cast("np.dtype[np.void]", hbt.binding.event_dtype)
    out = np.zeros(events.shape[0], dtype=dtype)
    side = events["side"]
    flags = np.uint64(int(hbt.EXCH_EVENT) | int(hbt.LOCAL_EVENT))
    buy = np.where(side > 0, np.uint64(int(hbt.BUY_EVENT)), np.uint64(0))
    sell = np.where(side < 0, np.uint64(int(hbt.SELL_EVENT)), np.uint64(0))
    # Our kind numbers are hftbacktest's for depth, trade, clear and snapshot events.
    out["ev"] = events["kind"].astype(np.uint64) | flags | buy | sell
    out["exch_ts"] = events["exch_ts_ns"]
    out["local_ts"] = events["local_ts_ns"]
    out["px"] = events["price_ticks"] * tick_size
    out["qty"] = events["amount_lots"] * lot_size
    return out


def run_glft(hbt: ModuleType, data: NDArray[np.void], config: BacktestConfig) -> HftbacktestRun:
    """Replay `data` (from `to_hftbacktest_events`) with the GLFT ladder; timed."""
    params = LadderParams.from_config(config)
    engine = config.app.engine
    tick, lot = config.backtest.tick_size, config.backtest.lot_size
    asset = (
        hbt.BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(engine.entry_latency.median_ns, engine.response_latency.median_ns)
        .risk_adverse_queue_model()
        .partial_fill_exchange()
        .trading_value_fee_model(engine.fees.maker_rate, engine.fees.taker_rate)
        .tick_size(tick)
        .lot_size(lot)
        .last_trades_capacity(0)
    )
    backtest = hbt.HashMapMarketDepthBacktest([asset])
    vector = np.array(
        [
            params.gamma_per_tick,
            params.sigma_ticks_per_sqrt_s,
            params.a_per_s,
            params.k_per_tick,
            params.min_half_spread_ticks,
            params.levels,
            params.spacing_ticks,
            params.size_lots,
            params.limit_lots,
            params.step_ns,
        ],
        dtype=np.float64,
    )
    started = time.perf_counter()
    decisions = _glft_ladder(
        cast("_Backtest", backtest),
        vector,
        int(hbt.BUY),
        int(hbt.GTX),
        int(hbt.LIMIT),
        tick,
        lot,
    )
    seconds = time.perf_counter() - started
    fills = int(backtest.state_values(0).num_trades)
    backtest.close()
    return HftbacktestRun(int(data.shape[0]), fills, int(decisions), seconds)
