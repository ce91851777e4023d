"""`python -m thalex_trio.soak`: run a soak and print its summary; exit 1 on any FAIL.

    python -m thalex_trio.soak --minutes 10 --seed 7 --out out/soak
    python -m thalex_trio.soak --seconds 60 --faults all,-db_outage

`--faults` takes fault kind names separated by commas (`all` for every kind, `-kind` to leave
one out); see `thalex_trio.soak.schedule.FaultKind`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from thalex_trio.runtime.logs import SecretFilter
from thalex_trio.soak.harness import SoakOptions, run_soak
from thalex_trio.soak.schedule import FaultKind, parse_kinds
from thalex_trio.store.dsn import DsnMaskingFilter

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "sim.toml"
"""The bot's configuration unless `--config` says otherwise."""

EXIT_FAILED = 1
EXIT_USAGE = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/soak",
        description="Run the bot against the simulator under a seeded fault schedule and "
        "check its invariants; exits 1 if any fails.",
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="quoting time in minutes")
    length.add_argument("--seconds", type=float, help="quoting time in seconds (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="seeds the schedule and simulator")
    parser.add_argument(
        "--faults",
        default="all",
        metavar="SPEC",
        help="fault kinds, comma-separated: all, or some of "
        + ", ".join(k.value for k in FaultKind)
        + " (-kind leaves one out)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="artifacts folder (default: out/soak-TIME)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help="the bot's configuration",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the soak the command line asks for; the process exit status."""
    args = parse_args(argv)
    try:
        kinds = parse_kinds(args.faults)
    except ValueError as exc:
        print(f"soak: --faults: {exc}", file=sys.stderr)
        return EXIT_USAGE
    duration_s = args.minutes * 60 if args.minutes is not None else args.seconds or 60.0
    if duration_s <= 0:
        print("soak: the duration must be positive", file=sys.stderr)
        return EXIT_USAGE
    out = args.out or Path("out") / time.strftime("soak-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    _configure_logging(out / "soak.log")
    print(f"soak: {duration_s:g} s, seed {args.seed}, faults {args.faults}; artifacts in {out}")
    options = SoakOptions(duration_s, args.seed, kinds, out, args.config)
    summary = run_soak(options)
    print(summary.render(), flush=True)
    return 0 if summary.passed else EXIT_FAILED


def _configure_logging(path: Path) -> None:
    """The simulator's and the harness's log go to `path`, secrets masked."""
    handler = logging.FileHandler(path)
    handler.addFilter(SecretFilter())
    handler.addFilter(DsnMaskingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
