"""`thalex-trio backtest`: replay recorded market data through the live strategy, reconciler,
risk and matching engine on virtual time; write a summary, a fills CSV and charts, and the run
to the store when `backtest.store` is set (with persistence enabled)."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from thalex_trio.commands.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse

HELP = "replay recorded market data through the same strategy and matching engine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `--config`, `--data`, `--out`, `--set`, `--sweep` and `--workers`."""
    parser.add_argument("--config", type=Path, metavar="PATH", help="TOML configuration")
    parser.add_argument(
        "--data", type=Path, nargs="+", required=True, metavar="PATH",
        help="data files read in order as one stream (Binance capture, recording or .npz)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory")
    parser.add_argument(
        "--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
        help="override one setting, e.g. strategy.gamma_per_tick=0.02 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--sweep", action="append", default=[], metavar="KEY=V1,V2,...",
        help="run a grid over these values (repeat for more keys) and write one table",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=None, help="sweep processes")


def run(args: argparse.Namespace) -> int:
    """Run the backtest (or the sweep); exit code 2 for bad configuration or data."""
    from thalex_trio.backtest.readers import NoMarketData, UnknownFormat
    from thalex_trio.backtest.settings import load_backtest_config, read_table
    from thalex_trio.config import ConfigError
    from thalex_trio.sim.market.binance import ReplayDataError

    config_path: Path | None = args.config
    paths: list[Path] = args.data
    out_dir: Path | None = args.out
    assignments: list[str] = args.assignments
    sweeps: list[str] = args.sweep
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"backtest: no such data file: {', '.join(missing)}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        config = load_backtest_config(config_path, os.environ, assignments)
        if sweeps:
            return _sweep(read_table(config_path), assignments, sweeps, paths, out_dir, args)
        return _single(config, paths, out_dir)
    except ConfigError as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except (UnknownFormat, NoMarketData, ReplayDataError) as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return ExitCode.USAGE


def _single(config: object, paths: list[Path], out_dir: Path | None) -> int:
    from thalex_trio.backtest.charts import write_charts
    from thalex_trio.backtest.progress import ProgressBar
    from thalex_trio.backtest.runner import run_backtest
    from thalex_trio.backtest.settings import BacktestConfig
    from thalex_trio.backtest.stored_run import run_stored, store_wanted
    from thalex_trio.backtest.summary import dumps, write_outputs

    assert isinstance(config, BacktestConfig)
    bar = ProgressBar(0, None)
    try:
        if store_wanted(config):
            import trio

            result, doc, run_id = trio.run(
                functools.partial(run_stored, config, paths, progress=bar)
            )
            if run_id is not None:
                print(f"backtest: stored as run {run_id}", file=sys.stderr)
        else:
            result, doc = run_backtest(config, paths, progress=bar)
    finally:
        bar.close()
    if out_dir is None:
        sys.stdout.write(dumps(doc).decode())
        return ExitCode.OK
    write_outputs(result, out_dir, doc)
    if config.backtest.charts:
        write_charts(result, out_dir)
    print(f"backtest: wrote {out_dir}", file=sys.stderr)
    return ExitCode.OK


def _sweep(
    table: dict[str, object],
    assignments: list[str],
    sweeps: list[str],
    paths: list[Path],
    out_dir: Path | None,
    args: argparse.Namespace,
) -> int:
    from thalex_trio.backtest.sweep import format_table, run_sweep

    workers: int | None = args.workers
    rows = run_sweep(table, os.environ, assignments, sweeps, paths, workers=workers)
    text = format_table(rows)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "sweep.txt").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return ExitCode.OK
