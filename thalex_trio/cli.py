"""`python -m thalex_trio` / `thalex-trio`: the command-line entry point.

Subcommands live in `thalex_trio.commands.<name>` and are imported only when chosen.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, Protocol, cast

from thalex_trio import __version__
from thalex_trio.commands.exit_codes import ExitCode

if TYPE_CHECKING:
    from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "live": "trade on Thalex (prod, testnet or the local simulator)",
    "shadow": "run the bot on real market data with simulated fills",
    "backtest": "replay recorded market data through the same strategy and matching engine",
    "sim": "run a local exchange that speaks the Thalex protocol",
    "record": "capture raw Thalex market data to compressed JSON-lines files",
    "calibrate": "fit sigma, A and k from market data and suggest parameters",
    "report": "summarise a stored run (PnL, fills, markouts, inventory, quoting quality)",
    "demo": "run shadow mode against the local simulator for about a minute (offline)",
}


class CommandModule(Protocol):
    """What every `thalex_trio.commands.<name>` module provides."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's options."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the command and return the process exit code."""


def _load(name: str) -> CommandModule | None:
    try:
        module = importlib.import_module(f"thalex_trio.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"thalex_trio.commands.{name}":
            return None
        raise
    return cast(CommandModule, module)


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only `selected`'s module is imported to declare its options."""
    parser = argparse.ArgumentParser(
        prog="thalex-trio",
        description="Market-making bot for the Thalex derivatives exchange, on Trio.",
    )
    parser.add_argument("--version", action="version", version=f"thalex_trio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            module = _load(name)
            if module is not None:
                module.add_arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in args_list if a in COMMANDS), None)
    args = build_parser(selected).parse_args(args_list)
    command = cast(str, args.command)
    module = _load(command)
    if module is None:
        print(f"thalex-trio {command}: not available in this build yet", file=sys.stderr)
        return ExitCode.NOT_AVAILABLE
    return module.run(args)


if __name__ == "__main__":
    sys.exit(main())
