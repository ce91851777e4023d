"""`thalex-trio calibrate`: fit sigma, A and k from market data and suggest gamma.

    thalex-trio calibrate --data btcusdt_20240718.gz --instrument BTCUSDT --out strategy.toml
    thalex-trio calibrate --data rec/thalex_*.jsonl.gz --instrument BTC-PERPETUAL \\
        --tick-size 1 --lot-size 0.001 --underlying BTCUSD

Reads anything `open_event_stream` reads (Binance captures, our recordings, .npz event
arrays), prints a table (sigma over the fast / mid / slow windows; A and k per side with the
R^2 of the log-linear fit and the data behind it; the suggested gamma) and writes the
`[strategy]` snippet to `--out` if given. Bad input exits 2, and so does `--out` when the data
are too few to fit A and k on both sides (without `--out` that is only a warning).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from thalex_trio.commands.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse

    from thalex_trio.backtest.calibration import Calibration

HELP = "fit sigma, A and k from market data and suggest parameters"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the data, the instrument's grid and the gamma target."""
    parser.add_argument(
        "--data", type=Path, nargs="+", required=True, metavar="PATH", help="files, in order"
    )
    parser.add_argument("--instrument", default="BTCUSDT", help="instrument name in the data")
    parser.add_argument("--underlying", help="underlying of a Thalex recording (its index)")
    parser.add_argument("--tick-size", type=float, default=0.1, help="price tick (0.1)")
    parser.add_argument("--lot-size", type=float, default=0.001, help="size lot (0.001)")
    parser.add_argument(
        "--limit-lots", type=float, default=100.0, help="position limit in lots (100)"
    )
    parser.add_argument(
        "--target-skew-ticks",
        type=float,
        default=10.0,
        help="quote skew wanted at the position limit, in ticks (10)",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the config snippet here")


def render_table(result: Calibration) -> str:
    """The fitted parameters as a plain-text table."""
    rows = [
        "parameter                      value",
        f"sigma fast (ticks/sqrt s)  {result.sigma_fast_ticks_per_sqrt_s:>10.4g}",
        f"sigma mid  (ticks/sqrt s)  {result.sigma_mid_ticks_per_sqrt_s:>10.4g}",
        f"sigma slow (ticks/sqrt s)  {result.sigma_slow_ticks_per_sqrt_s:>10.4g}",
        "",
        "side   A (1/s)   k (1/tick)     R^2  depths  steps with trades",
    ]
    for side, a, k, fit in (
        ("bid", result.bid_a_per_s, result.bid_k_per_tick, result.bid_fit),
        ("ask", result.ask_a_per_s, result.ask_k_per_tick, result.ask_fit),
    ):
        rows.append(
            f"{side:<4} {a:>9.4g} {k:>12.4g} {fit.r_squared:>7.4f} {fit.depths_used:>7d}"
            f"  {fit.steps_with_trades} of {fit.steps}"
        )
    rows += [
        "",
        f"grid steps {result.steps}, trades {result.trades}",
        f"suggested gamma (1/tick)   {result.suggested_gamma_per_tick:.6g}",
    ]
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    """Calibrate and print; exit 2 on bad arguments or unreadable data."""
    from thalex_trio.backtest.calibration import calibrate
    from thalex_trio.backtest.readers import UnknownFormat, open_event_stream
    from thalex_trio.domain.enums import InstrumentKind
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.sim.market.binance import ReplayDataError
    from thalex_trio.strategy.params import EstimatorParams

    def usage(message: str) -> int:
        print(f"thalex-trio calibrate: {message}", file=sys.stderr)
        return ExitCode.USAGE

    for name in ("tick_size", "lot_size", "limit_lots", "target_skew_ticks"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            return usage(f"--{name.replace('_', '-')} must be > 0")
    paths: list[Path] = args.data
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        return usage(f"no such file: {', '.join(missing)}")
    tick, lot = args.tick_size, args.lot_size
    instrument = Instrument(
        args.instrument, InstrumentKind.PERPETUAL, args.underlying or "", tick, lot, lot
    )
    try:
        stream = open_event_stream(
            paths,
            instrument_name=args.instrument,
            tick_size=tick,
            lot_size=lot,
            underlying=args.underlying,
        )
        result = calibrate(
            stream.chunks(),
            instrument,
            EstimatorParams(),
            limit_units=args.limit_lots * lot,
            target_skew_ticks=args.target_skew_ticks,
        )
    except (UnknownFormat, ReplayDataError, OSError, EOFError) as exc:
        return usage(f"cannot read the data: {exc}")
    if result.steps == 0:
        names = ", ".join(map(str, paths))
        return usage(f"nothing to calibrate on in {names}: {stream.why_empty()}")
    print(render_table(result))
    if not math.isfinite(result.suggested_gamma_per_tick):
        message = "too little data to fit A and k on both sides: no gamma suggested"
        if args.out is not None:
            # A snippet of nans would only fail later, at config load: refuse it now.
            return usage(f"{message}; {args.out} not written")
        print(message, file=sys.stderr)
        return ExitCode.OK
    if args.out is not None:
        try:
            args.out.write_text(result.toml_snippet())
        except OSError as exc:
            return usage(f"cannot write {args.out}: {exc}")
        print(f"config snippet written to {args.out}")
    return ExitCode.OK
