"""`thalex-trio shadow`: Thalex market data, orders filled by the in-process matching engine
(fed by the same live book and trades, with the configured latency and queue model)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

HELP = "run the bot on real market data with simulated fills"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options."""
    from thalex_trio.runtime.cli_args import add_run_arguments

    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run until stopped; no order reaches the exchange."""
    import importlib.util

    from thalex_trio.commands.exit_codes import ExitCode
    from thalex_trio.commands.live import run_mode

    if importlib.util.find_spec("thalex_trio.runtime.shadow_venue") is None:
        print("thalex-trio shadow: the shadow venue is not built yet", file=sys.stderr)
        return ExitCode.NOT_AVAILABLE
    return run_mode("shadow", args)
