"""The command line lists every subcommand the product promises."""

from __future__ import annotations

import subprocess
import sys

from thalex_trio.cli import COMMANDS


def test_help_lists_every_subcommand() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "thalex_trio", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("live", "shadow", "backtest", "sim", "record", "calibrate", "report"):
        assert name in COMMANDS
        assert f"    {name}" in out
