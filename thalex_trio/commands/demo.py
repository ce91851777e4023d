"""`thalex-trio demo`: shadow mode against the simulator started in-process, for about a minute,
then the exit summary. Offline: no key, no network, nothing sent anywhere.

Persistence behaves as in `live`/`shadow`: on by default (`--no-persistence` turns it off), and
the run goes on unrecorded when the embedded database cannot start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

HELP = "run shadow mode against the local simulator for about a minute (offline)"

DEFAULT_DURATION_S = 60.0
"""How long the demo runs unless `--duration` says otherwise."""

SIM_CONFIG = Path(__file__).resolve().parents[2] / "config" / "sim.toml"
"""The repository's offline configuration."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options."""
    parser.add_argument(
        "--duration",
        type=float,
        default=DEFAULT_DURATION_S,
        metavar="S",
        help=f"stop after S seconds (default {DEFAULT_DURATION_S:g})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=SIM_CONFIG,
        metavar="PATH",
        help="TOML configuration file (default: config/sim.toml)",
    )
    parser.add_argument("--json-logs", action="store_true", help="log JSON lines to stderr")
    parser.add_argument(
        "--no-persistence", action="store_true", help="do not record the run in the store"
    )


def run(args: argparse.Namespace) -> int:
    """Shadow mode on `--network sim` with the simulator in this process; the exit status."""
    from thalex_trio.commands.live import run_mode

    args.network = "sim"
    args.sim_url = None
    args.keys_dir = None
    return run_mode("shadow", args)
