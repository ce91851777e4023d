"""`scripts/bench.py core`: the pure core's hot paths, timed from Python.

- kernel_call_ns: one call of the per-inventory GLFT kernel (`glft_skew_ticks`, three floats)
  from Python as the quoter makes it (strategy/models.py: the compiled entry point, no
  dispatcher); the same call through numba's dispatcher, and the coefficient and
  seven-argument kernels through it, are reported beside it;
- ladder_us: one `Quoter.decide` with every signal on (regime, pressure, options, five levels a
  side, size shaping), the book moving between calls so the ladder really changes;
- reconcile_us: from the reconciler's own timing module, when that module exists.
Kernels are compiled (or loaded from numba's cache) before anything is timed.
"""

from __future__ import annotations

import argparse
import time

from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, TopOfBook, Trade
from thalex_trio.kernels.dispatch import compiled_entry_point
from thalex_trio.kernels.glft import (
    glft_half_spread_and_skew_ticks,
    glft_quote_coefficients_ticks,
    glft_skew_ticks,
)
from thalex_trio.strategy.market_state import Exposure
from thalex_trio.strategy.params import EstimatorParams, SignalParams, StrategyParams
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.strategy.signals.expected_move import ExpectedMove


def _kernel_call_ns(calls: int) -> dict[str, float]:
    """ns per call of the per-inventory GLFT kernel (3 floats, coefficients precomputed) as
    the quoter calls it, and through numba's dispatcher; for comparison, of the coefficient
    kernel (6 floats, once per estimate change) and of the all-in-one 7-float kernel, through
    the dispatcher. Each loop walks precomputed arguments, so the time is the call's and the
    loop's own step (about a tenth of it), not arithmetic making the arguments."""
    full = glft_half_spread_and_skew_ticks
    coefficients = glft_quote_coefficients_ticks
    skew = glft_skew_ticks
    quoter_skew = compiled_entry_point(glft_skew_ticks)
    full(1.0, 0.05, 2.0, 1.5, 0.5, 0.0, 0.0)
    _, c, units = coefficients(0.05, 2.0, 1.5, 0.5, 0.1, 0.2)
    inventories = [float(i & 7) - 3.5 for i in range(calls)]
    adverse = [float(i & 1) for i in range(calls)]
    best = dict.fromkeys(("quoter", "skew", "coefficients", "full"), float("inf"))
    for _ in range(5):
        start = time.perf_counter_ns()
        for q in inventories:
            quoter_skew(q, c, units)
        after_quoter = time.perf_counter_ns()
        for q in inventories:
            skew(q, c, units)
        after_skew = time.perf_counter_ns()
        for xi in adverse:
            coefficients(0.05, 2.0, 1.5, 0.5, 0.1, xi)
        after_coefficients = time.perf_counter_ns()
        for q in inventories:
            full(q, 0.05, 2.0, 1.5, 0.5, 0.1, 0.2)
        last = time.perf_counter_ns()
        best["quoter"] = min(best["quoter"], (after_quoter - start) / calls)
        best["skew"] = min(best["skew"], (after_skew - after_quoter) / calls)
        best["coefficients"] = min(best["coefficients"], (after_coefficients - after_skew) / calls)
        best["full"] = min(best["full"], (last - after_coefficients) / calls)
    return {
        "kernel_call_ns": best["quoter"],
        "kernel_dispatcher_call_ns": best["skew"],
        "kernel_coefficients_call_ns": best["coefficients"],
        "kernel_seven_argument_call_ns": best["full"],
    }


def _quoter() -> Quoter:
    instrument = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)
    strategy = StrategyParams(
        levels_per_side=5, size_lots=10, size_eta_per_unit=0.05, position_limit_lots=1000
    )
    signals = SignalParams(candle_volume_lots=50, options_vol_floor_fraction=0.5)
    quoter = Quoter(instrument, strategy, EstimatorParams(warmup_s=5.0), signals=signals)
    quoter.on_expected_move(ExpectedMove(0, 60000.0, 3000.0, 60000.0, 7.0, 0.05, 0.5))
    # Sixty seconds of a moving book with trades, so every estimator and signal is warm.
    for step in range(600):
        t = 1_700_000_000_000_000_000 + step * 100_000_000
        bid = 60_000 + (step * 7) % 13
        quoter.on_top_of_book(
            TopOfBook("BTC-PERPETUAL", BookLevel(bid, 50), BookLevel(bid + 1, 40), t)
        )
        side = Side.BUY if step % 3 else Side.SELL
        price = bid + 1 + step % 3 if side is Side.BUY else bid - step % 3
        quoter.on_trade(Trade("BTC-PERPETUAL", price, 7, side, t + 1))
    return quoter


def _ladder_us(calls: int) -> float:
    quoter = _quoter()
    base_ns = 1_700_000_060_000_000_000
    books = [
        TopOfBook(
            "BTC-PERPETUAL",
            BookLevel(60_000 + i % 5, 50 + i),
            BookLevel(60_001 + i % 5, 40),
            base_ns,
        )
        for i in range(16)
    ]
    exposures = [Exposure(position_lots=20 * (i % 7) - 60, resting_buy_lots=30) for i in range(16)]
    for i in range(200):
        quoter.decide(base_ns + i, exposures[i % 16])
    best = float("inf")
    for _ in range(5):
        elapsed = 0
        for i in range(calls):
            quoter.on_top_of_book(books[i % 16])  # not timed: a book event, not the ladder
            start = time.perf_counter_ns()
            quoter.decide(base_ns + 1000 * i, exposures[(i * 5) % 16])
            elapsed += time.perf_counter_ns() - start
        best = min(best, elapsed / calls / 1000.0)
    return best


def run(argv: list[str]) -> dict[str, float | int | str]:
    """Time the core; `--calls N` sets the iterations per timing round."""
    parser = argparse.ArgumentParser(prog="bench.py core")
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args(argv)
    result: dict[str, float | int | str] = {
        **{key: round(ns, 1) for key, ns in _kernel_call_ns(args.calls * 10).items()},
        "ladder_us": round(_ladder_us(args.calls), 2),
    }
    try:
        from thalex_trio.bench.reconcile_timing import reconcile_us
    except ModuleNotFoundError as exc:
        if exc.name != "thalex_trio.bench.reconcile_timing":
            raise
    else:
        result["reconcile_us"] = round(reconcile_us(), 2)
    return result
