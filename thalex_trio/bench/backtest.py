"""`scripts/bench.py backtest [--data PATH...]`: the GLFT market maker backtested end to end
from normalised event files.

The stream is the two shared BTCUSDT 2024 captures (one continuing stream), or the files given
(read in order as one stream, like the backtest command). Raw captures are converted once and
cached as a `.npy` event file under `.cache/backtest/` in the repository, keyed by the files'
content; a `.json` beside it keeps the rate of the conversion that produced it, reported as
`convert_events_per_s` (with `convert_cached` telling whether this run converted;
`--reconvert` converts and times it again). The
backtest then runs with `config/backtest-binance-btcusdt.toml` after a warm-up run (JIT
compile or cache load), and the best of `--repeat` runs is timed, from the event file to the
summary document.

When hftbacktest is importable (installed, or in `--hftbacktest-path`, by default
`.cache/hftbacktest` when it exists: `pip install --no-deps --target .cache/hftbacktest
hftbacktest`, since it pins older numpy and numba than the project), the same events run
through an equivalent GLFT ladder there (`thalex_trio.backtest.hftbacktest_glft`) and
`hftbacktest_events_per_s`, `hftbacktest_fills` and `hftbacktest_decisions` are added.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from thalex_trio.backtest.readers import open_event_stream
from thalex_trio.backtest.readers.npz import save_event_array
from thalex_trio.backtest.runner import run_backtest
from thalex_trio.backtest.settings import load_backtest_config
from thalex_trio.sim.events import concat_events

if TYPE_CHECKING:
    from thalex_trio.backtest.settings import BacktestConfig

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT.parent / "shared" / "data" / "binance-btc-perp"
CONFIG = ROOT / "config" / "backtest-binance-btcusdt.toml"
CACHE_DIR = ROOT / ".cache" / "backtest"
HFTBACKTEST_DIR = ROOT / ".cache" / "hftbacktest"
STREAM = ("btcusdt_20240718.gz", "btcusdt_20240719.gz")


def _digest(paths: list[Path]) -> str:
    """A key for the files' content (names and modification times change when data is copied)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:20]


def cached_events(
    paths: list[Path], tick: float, lot: float, *, reconvert: bool = False
) -> tuple[Path, int, float, bool]:
    """The normalised event file of a stream: (path, events, conversion seconds, from cache).

    The seconds are those of the conversion that produced the file, kept beside it;
    `reconvert` converts (and times) again even when the file is cached.
    """
    if len(paths) == 1 and paths[0].suffix in (".npz", ".npy"):
        return paths[0], 0, 0.0, True  # already an event array
    target = CACHE_DIR / f"{paths[0].stem}-{_digest(paths)}.npy"
    stats = target.with_suffix(".json")
    if target.exists() and stats.exists() and not reconvert:
        saved = json.loads(stats.read_text())
        return target, int(saved["events"]), float(saved["convert_seconds"]), True
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stream = open_event_stream(paths, instrument_name="X", tick_size=tick, lot_size=lot)
    events = concat_events(list(stream.chunks()))
    seconds = time.perf_counter() - started
    partial = target.with_suffix(".tmp.npy")
    save_event_array(partial, events)
    partial.replace(target)
    stats.write_text(json.dumps({"events": int(events.shape[0]), "convert_seconds": seconds}))
    return target, int(events.shape[0]), seconds, False


def _time_backtest(config: BacktestConfig, path: Path, repeat: int) -> dict[str, float | int]:
    run_backtest(config, [path])  # warm-up: JIT compile or cache load
    best_s = best_cpu_s = float("inf")
    result = None
    for _ in range(max(repeat, 1)):
        started, cpu_started = time.perf_counter(), time.process_time()
        result, _ = run_backtest(config, [path])
        best_s = min(best_s, time.perf_counter() - started)
        # CPU time as well: on a shared machine it moves less than the wall clock.
        best_cpu_s = min(best_cpu_s, time.process_time() - cpu_started)
    assert result is not None
    return {
        "events_per_s": round(result.events / best_s),
        "events": result.events,
        "fills": len(result.fills),
        "decisions": result.decisions,
        "order_messages": result.order_messages,
        "seconds": round(best_s, 4),
        "cpu_seconds": round(best_cpu_s, 4),
    }


def _hftbacktest(search: Path | None) -> object | None:
    """The hftbacktest module if it can be imported (from `search` first), else None."""
    if search is not None and search.is_dir() and str(search) not in sys.path:
        sys.path.insert(0, str(search))
    if importlib.util.find_spec("hftbacktest") is None:
        return None
    return importlib.import_module("hftbacktest")


def _time_hftbacktest(
    module: object, config: BacktestConfig, path: Path, repeat: int
) -> dict[str, float | int]:
    from types import ModuleType

    from thalex_trio.backtest import hftbacktest_glft

    assert isinstance(module, ModuleType)
    stream = open_event_stream(
        [path],
        instrument_name="X",
        tick_size=config.backtest.tick_size,
        lot_size=config.backtest.lot_size,
        feed_latency_ns=config.backtest.feed_latency_ns,
    )
    data = hftbacktest_glft.to_hftbacktest_events(
        module,
        concat_events(list(stream.chunks())),
        config.backtest.tick_size,
        config.backtest.lot_size,
    )
    hftbacktest_glft.run_glft(module, data, config)  # warm-up: JIT compile
    best = min(
        (hftbacktest_glft.run_glft(module, data, config) for _ in range(max(repeat, 1))),
        key=lambda run: run.seconds,
    )
    return {
        "hftbacktest_events_per_s": round(best.events / best.seconds),
        "hftbacktest_fills": best.fills,
        "hftbacktest_decisions": best.decisions,
    }


def run(argv: list[str]) -> dict[str, float | int | str | bool]:
    """Convert (cached), warm up, replay; return the JSON-ready result."""
    parser = argparse.ArgumentParser(prog="bench.py backtest")
    parser.add_argument("--data", type=Path, nargs="+", help="files read in order as one stream")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--set", dest="assignments", action="append", default=[])
    parser.add_argument(
        "--hftbacktest-path",
        type=Path,
        default=HFTBACKTEST_DIR,
        help="a directory holding the hftbacktest package (default .cache/hftbacktest)",
    )
    parser.add_argument("--no-hftbacktest", action="store_true", help="skip the comparison")
    parser.add_argument(
        "--reconvert", action="store_true", help="convert the raw captures again (timed)"
    )
    args = parser.parse_args(argv)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("THALEX_TRIO_")}
    config = load_backtest_config(CONFIG, environ, args.assignments)
    tick, lot = config.backtest.tick_size, config.backtest.lot_size
    paths = list(args.data) if args.data else [DATA_DIR / name for name in STREAM]
    path, converted, convert_s, from_cache = cached_events(
        paths, tick, lot, reconvert=args.reconvert
    )
    out: dict[str, float | int | str | bool] = {
        **_time_backtest(config, path, args.repeat),
        "convert_events_per_s": round(converted / convert_s) if convert_s > 0 else 0,
        "convert_cached": from_cache,
        "requote_interval_ms": config.backtest.requote_interval_ms,
    }
    module = None if args.no_hftbacktest else _hftbacktest(args.hftbacktest_path)
    if module is not None:
        out.update(_time_hftbacktest(module, config, path, args.repeat))
    return out
