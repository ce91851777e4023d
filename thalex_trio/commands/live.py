"""`thalex-trio live`: trade on Thalex (prod, testnet or the local simulator).

With `--network sim` and no `--sim-url`, the simulator runs in the same process on a free
loopback port, so one command runs the whole system offline.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from thalex_trio.commands.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse

HELP = "trade on Thalex (prod, testnet or the local simulator)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options."""
    from thalex_trio.runtime.cli_args import add_run_arguments

    add_run_arguments(parser)
    parser.add_argument(
        "--i-understand-this-is-real",
        action="store_true",
        help="required to trade on prod (real money)",
    )


def run(args: argparse.Namespace) -> int:
    """Trade until stopped; the exit status says why it stopped."""
    return run_mode("live", args)


def run_mode(mode: str, args: argparse.Namespace) -> int:
    """Shared by `live` and `shadow`: load, check, run."""
    from thalex_trio.config import ConfigError
    from thalex_trio.runtime.app import run_app
    from thalex_trio.runtime.cli_args import load, run_options
    from thalex_trio.runtime.logs import configure_logging

    try:
        loaded = load(args)
    except ConfigError as exc:
        print(f"thalex-trio {mode}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    configure_logging(loaded.config.logging.level, json_lines=args.json_logs)
    assert mode in ("live", "shadow")
    outcome = run_app(run_options("live" if mode == "live" else "shadow", args, loaded))
    return ExitCode[outcome.name]
