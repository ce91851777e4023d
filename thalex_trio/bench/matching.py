"""`scripts/bench.py matching`: replay a shared Binance recording through the matching engine
with a resting two-sided 5-level ladder near the touch, re-quoted after fills.

Conversion is timed separately (`convert_events_per_s`); the replay is timed after a JIT
warm-up on a slice of the same data. Options: `--pair NAME` (usdt-2024, usdt-2023, coinm-2024),
`--step-ms N` (how often the quoting loop wakes, exchange time), `--repeat N`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.params import EngineParams, Latency
from thalex_trio.sim.engine.reports import OrderNotice, SessionId
from thalex_trio.sim.engine.requests import MassQuote, QuoteLevel, SetMMProtection, SideQuotes
from thalex_trio.sim.events import Events, concat_events
from thalex_trio.sim.market.binance import BinanceReplay

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance-btc-perp"
PAIRS = {
    "usdt-2024": ("btcusdt_20240718.gz", "btcusdt_20240719.gz", 0.001),
    "usdt-2023": ("btcusdt_20230404.dat.gz", "btcusdt_20230405.dat.gz", 0.001),
    "coinm-2024": ("btcusd_perp_20240808.gz", "btcusd_perp_20240809.gz", 1.0),
}
NAME = "BTC-PERPETUAL"
LEVELS = 5
LOTS_PER_LEVEL = 10
_WARMUP_EVENTS = 20_000


def _ladder(engine: MatchingEngine) -> MassQuote | None:
    top = engine.top_of_book(NAME)
    if top.bid is None or top.ask is None:
        return None
    inst = engine.instrument(NAME)
    amount = inst.lots_to_amount(LOTS_PER_LEVEL)
    bids = tuple(
        QuoteLevel(inst.ticks_to_price(top.bid.price_ticks - i), amount) for i in range(LEVELS)
    )
    asks = tuple(
        QuoteLevel(inst.ticks_to_price(top.ask.price_ticks + i), amount) for i in range(LEVELS)
    )
    return MassQuote((SideQuotes(NAME, bids, asks),), post_only=True)


def _replay(instrument: Instrument, events: Events, step_ns: int) -> tuple[int, int]:
    params = EngineParams(
        entry_latency=Latency(median_ns=1_000_000), response_latency=Latency(median_ns=1_000_000)
    )
    engine = MatchingEngine([instrument], params)
    session: SessionId = engine.open_session()
    engine.set_cancel_on_disconnect(session)
    engine.feed(NAME, events)
    t = int(events["exch_ts_ns"][0])
    end = int(events["exch_ts_ns"][-1])
    engine.submit(session, SetMMProtection(engine.product(NAME), 1e9, 1e9), t)
    fills = 0
    quoted_mid = -1.0
    while t < end:
        t = min(t + step_ns, end)
        engine.advance_to(t)
        filled = False
        for report in engine.drain_reports():
            if isinstance(report, OrderNotice) and report.report.update.fills:
                fills += len(report.report.update.fills)
                filled = True
        mid = engine.top_of_book(NAME).mid_ticks
        if mid is not None and (filled or abs(mid - quoted_mid) >= 2):
            ladder = _ladder(engine)
            if ladder is not None:
                engine.submit(session, ladder, t)
                quoted_mid = mid
    return engine.stats(NAME)["events"], fills


def run(argv: list[str]) -> dict[str, float | int | str]:
    """Convert, warm up, replay; return the JSON-ready result."""
    parser = argparse.ArgumentParser(prog="bench.py matching")
    parser.add_argument("--pair", choices=sorted(PAIRS), default="usdt-2024")
    parser.add_argument("--step-ms", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    first, second, lot = PAIRS[args.pair]
    instrument = Instrument(NAME, InstrumentKind.PERPETUAL, "BTCUSD", 0.1, lot, lot)

    started = time.perf_counter()
    replay = BinanceReplay(0.1, lot)
    events = concat_events(list(replay.read_files([DATA_DIR / first, DATA_DIR / second])))
    convert_s = time.perf_counter() - started

    step_ns = args.step_ms * 1_000_000
    _replay(instrument, events[:_WARMUP_EVENTS], step_ns)  # JIT compile or cache load
    best_s = float("inf")
    n_events = n_fills = 0
    for _ in range(max(args.repeat, 1)):
        started = time.perf_counter()
        n_events, n_fills = _replay(instrument, events, step_ns)
        best_s = min(best_s, time.perf_counter() - started)
    return {
        "events_per_s": round(n_events / best_s),
        "events": n_events,
        "fills": n_fills,
        "seconds": round(best_s, 4),
        "convert_events_per_s": round(events.shape[0] / convert_s),
        "sequence_breaks": replay.sequence_breaks,
        "pair": args.pair,
        "engine": "numba",
    }
