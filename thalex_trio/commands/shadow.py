"""`thalex-trio shadow`: Thalex market data, orders filled by the in-process matching engine
(fed by the same live book and trades, with the configured latency and queue model).

No order reaches the exchange and the session never logs in (the market channels are public),
so no API key and no production confirmation are needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

HELP = "run the bot on real market data with simulated fills"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options (the same as `live`'s, without the production confirmation)."""
    from thalex_trio.runtime.cli_args import add_run_arguments

    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run until stopped (or `--duration`); the exit status says why it stopped."""
    from thalex_trio.commands.live import run_mode

    return run_mode("shadow", args)
