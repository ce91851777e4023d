"""MODELS.md §7 measures of a backtest, as pure functions over its arrays.

Money is in the quote currency. PnL = cash + position x fair - fees + funding, with the fair
value the mid on the sample grid; it splits exactly into spread capture (each fill's price
against the fair at the fill, times its size), inventory PnL (fair moves on the held position:
the rest of the trading PnL), fees and funding. Markouts are the signed fair move after each
fill in ticks (positive: the fill was good for us). Sharpe is of per-minute PnL changes, not
annualised; drawdown is from the running peak of the PnL curve on the sample grid.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

if TYPE_CHECKING:
    from thalex_trio.backtest.driver import BacktestResult, FillRow

_NS_PER_S = 10**9
_MINUTE_NS = 60 * _NS_PER_S

Json = dict[str, object]


@frozen
class PnlCurve:
    """PnL components on the sample grid (quote currency, cumulative)."""

    time_ns: NDArray[np.int64]
    total: NDArray[np.float64]
    spread_capture: NDArray[np.float64]
    inventory: NDArray[np.float64]
    fees: NDArray[np.float64]
    funding: NDArray[np.float64]
    position_lots: NDArray[np.int64]


def fill_arrays(fills: tuple[FillRow, ...]) -> dict[str, NDArray[np.float64]]:
    """The fill rows as float columns (one array per field)."""
    names = ("exch_ns", "local_ns", "side", "price_ticks", "amount_lots", "fee", "fair_ticks")
    return {name: np.asarray([getattr(f, name) for f in fills], dtype=np.float64) for name in names}


def mid_at(time_ns: NDArray[np.int64], mid: NDArray[np.float64], t_ns: int) -> float:
    """The last sampled mid at or before `t_ns` (NaN before the first)."""
    i = int(np.searchsorted(time_ns, t_ns, side="right")) - 1
    return float(mid[i]) if i >= 0 else math.nan


def pnl_curve(result: BacktestResult) -> PnlCurve:
    """PnL and its components at every sample time, with fills counted on delivery."""
    unit = result.instrument.quote_per_tick_lot
    t = result.sample_ns
    mid = result.sample_mid_ticks
    fills = result.fills
    known = np.asarray([f.local_ns for f in fills], dtype=np.int64)
    upto = np.searchsorted(known, t, side="right")  # fills known at each sample
    signed = np.asarray([f.side * f.amount_lots for f in fills], dtype=np.float64)
    price = np.asarray([f.price_ticks for f in fills], dtype=np.float64)
    fair = np.asarray([f.fair_ticks for f in fills], dtype=np.float64)
    fee = np.asarray([f.fee for f in fills], dtype=np.float64)

    def cumulative(values: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.concatenate(([0.0], np.cumsum(values)))[upto]
        return out

    position = cumulative(signed)
    cash = cumulative(-signed * price)
    capture = cumulative(signed * (np.nan_to_num(fair) - price)) * unit
    fees = cumulative(fee)
    f_upto = np.searchsorted(result.funding_ns, t, side="right")
    funding = np.concatenate(([0.0], np.cumsum(result.funding_income)))[f_upto]
    held_mid = np.where(np.isnan(mid), 0.0, mid)
    trading = (cash + position * held_mid) * unit
    return PnlCurve(
        time_ns=t,
        total=trading - fees + funding,
        spread_capture=capture,
        inventory=trading - capture,
        fees=fees,
        funding=funding,
        position_lots=position.astype(np.int64),
    )


def final_mid(result: BacktestResult) -> float:
    """The last known mid of the run (NaN when none)."""
    valid = result.sample_mid_ticks[~np.isnan(result.sample_mid_ticks)]
    return float(valid[-1]) if valid.shape[0] else math.nan


def pnl_decomposition(result: BacktestResult) -> Json:
    """Total PnL at the final mid and its components (quote currency)."""
    unit = result.instrument.quote_per_tick_lot
    mid = final_mid(result)
    account = result.account
    capture = sum(f.side * (f.fair_ticks - f.price_ticks) * f.amount_lots for f in result.fills)
    trading = (account.cash_tick_lots + account.size_lots * mid) * unit if result.fills else 0.0
    return {
        "total": trading - account.fees + account.funding,
        "spread_capture": capture * unit,
        "inventory": trading - capture * unit,
        "fees": account.fees,
        "funding": account.funding,
        "final_mid_ticks": mid,
    }


def fills_by_side_and_level(fills: tuple[FillRow, ...]) -> Json:
    """Fill counts and lots per side, per liquidity, and per ladder level."""
    levels: dict[str, dict[str, int]] = {}
    for f in fills:
        entry = levels.setdefault(str(f.level), {"buy": 0, "sell": 0, "lots": 0})
        entry["buy" if f.side > 0 else "sell"] += 1
        entry["lots"] += f.amount_lots
    return {
        "count": len(fills),
        "buy": sum(1 for f in fills if f.side > 0),
        "sell": sum(1 for f in fills if f.side < 0),
        "lots_buy": sum(f.amount_lots for f in fills if f.side > 0),
        "lots_sell": sum(f.amount_lots for f in fills if f.side < 0),
        "maker": sum(1 for f in fills if f.maker),
        "taker": sum(1 for f in fills if not f.maker),
        "by_level": levels,
    }


def markouts(result: BacktestResult) -> Json:
    """Mean signed fair move (ticks) per horizon, for all fills, per side and per level."""
    t, mid = result.sample_ns, result.sample_mid_ticks
    last_ns = int(t[-1]) if t.shape[0] else -1
    out: Json = {}
    for horizon_s in result.horizons_s:
        groups: dict[str, list[float]] = {}
        for f in result.fills:
            later_ns = f.exch_ns + horizon_s * _NS_PER_S
            if later_ns > last_ns or math.isnan(f.fair_ticks):
                continue  # the run ended before the horizon
            later = mid_at(t, mid, later_ns)
            if math.isnan(later):
                continue
            value = f.side * (later - f.fair_ticks)
            for key in ("all", "buy" if f.side > 0 else "sell", f"level {f.level}"):
                groups.setdefault(key, []).append(value)
        out[f"{horizon_s}s"] = {
            key: {"mean_ticks": sum(v) / len(v), "count": len(v)}
            for key, v in sorted(groups.items())
        }
    return out


def inventory_stats(curve: PnlCurve, limit_lots: int) -> Json:
    """Mean, max |q|, time-weighted |q| and the time at the position limit (sample grid)."""
    q = curve.position_lots.astype(np.float64)
    if q.shape[0] == 0:
        return {"final_lots": 0, "mean_lots": 0.0, "max_abs_lots": 0, "time_weighted_abs_lots": 0.0}
    dt = np.diff(curve.time_ns, append=curve.time_ns[-1]).astype(np.float64)
    total = float(dt.sum())
    weights = dt / total if total > 0 else np.full(q.shape[0], 1.0 / q.shape[0])
    return {
        "final_lots": int(q[-1]),
        "mean_lots": float((q * weights).sum()),
        "max_abs_lots": int(np.abs(q).max()),
        "time_weighted_abs_lots": float((np.abs(q) * weights).sum()),
        "time_at_limit_fraction": float(weights[np.abs(q) >= limit_lots].sum()),
    }


def quoting_quality(result: BacktestResult) -> Json:
    """Two-sided time, mean quoted spread, fill ratio, messages per fill, rejects."""
    bid, ask = result.quote_bid_ticks, result.quote_ask_ticks
    fills = len(result.fills)
    filled_lots = sum(f.amount_lots for f in result.fills)
    out: Json = {
        "decisions": result.decisions,
        "skipped_decisions": result.skipped_decisions,
        "order_messages": result.order_messages,
        "messages_per_fill": result.order_messages / fills if fills else None,
        "rejected": result.rejected,
        "throttled": 0,  # the backtest venue does not rate-limit
        "fill_ratio": filled_lots / result.inserted_lots if result.inserted_lots else None,
        "two_sided_fraction": None,
        "mean_quoted_spread_ticks": None,
    }
    if result.quote_ns.shape[0]:
        edges = np.append(result.quote_ns, max(result.end_ns, int(result.quote_ns[-1])))
        durations = np.diff(edges).astype(np.float64)
        both = ~np.isnan(bid) & ~np.isnan(ask)
        total = float(durations.sum())
        if total > 0:
            out["two_sided_fraction"] = float(durations[both].sum()) / total
        if both.any():
            spread = (ask - bid)[both]
            weights = durations[both]
            weighted = float((spread * weights).sum() / weights.sum()) if weights.sum() else None
            out["mean_quoted_spread_ticks"] = weighted
    return out


def risk_adjusted(curve: PnlCurve) -> Json:
    """Sharpe of per-minute PnL changes (not annualised) and the maximum drawdown."""
    if curve.total.shape[0] == 0:
        return {"sharpe_per_minute": None, "max_drawdown": None, "minutes": 0}
    total = curve.total
    peak = np.maximum.accumulate(np.maximum(total, 0.0))
    drawdown = float((peak - total).max())
    minute = curve.time_ns // _MINUTE_NS
    last = total[np.append(minute[1:] != minute[:-1], True)]
    changes = np.diff(np.concatenate(([0.0], last)))
    sharpe = None
    if changes.shape[0] >= 2 and float(changes.std(ddof=1)) > 0:
        sharpe = float(changes.mean() / changes.std(ddof=1))
    return {"sharpe_per_minute": sharpe, "max_drawdown": drawdown, "minutes": int(changes.shape[0])}
