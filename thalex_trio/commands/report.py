"""`thalex-trio report`: summarise a stored run (MODELS.md §7) in the terminal, optionally as
a PNG chart. Reads `--dsn`, else `THALEX_TRIO_DSN`, else the embedded PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from thalex_trio.commands.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse

HELP = "summarise a stored run (PnL, fills, markouts, inventory, quoting quality)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `--run`, `--dsn`, `--png` and `--data-dir`."""
    parser.add_argument("--run", metavar="ID", help="run id (default: the latest run)")
    parser.add_argument(
        "--dsn",
        help="PostgreSQL DSN (default: $THALEX_TRIO_DSN, else the embedded server)",
    )
    parser.add_argument("--png", type=Path, metavar="PATH", help="also write a chart here")
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="data folder of the embedded server (default: the user's data folder)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the report; exit code 2 for an unknown run or an unreachable database."""
    import psycopg
    import trio

    from thalex_trio.store.dsn import mask_dsn
    from thalex_trio.store.lifecycle import open_database
    from thalex_trio.store.migrations import apply_migrations
    from thalex_trio.store.report import ReportError, latest_run_id, load_run, summarise
    from thalex_trio.store.report_render import render_png, render_text

    run_id: str | None = args.run
    dsn_arg: str | None = args.dsn
    png: Path | None = args.png
    data_dir: Path | None = args.data_dir

    def report(dsn: str) -> str:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            apply_migrations(conn)  # a fresh store has no tables yet
            data = load_run(conn, run_id or latest_run_id(conn))
        if png is not None:
            render_png(data, png)
        return render_text(summarise(data))

    async def main() -> str:
        async with open_database(dsn_arg, data_dir=data_dir) as dsn:
            return await trio.to_thread.run_sync(report, dsn)

    try:
        text = trio.run(main)
    except ReportError as exc:
        print(f"thalex-trio report: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except psycopg.OperationalError as exc:
        print(f"thalex-trio report: cannot read the store: {mask_dsn(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    print(text)
    if png is not None:
        print(f"chart written to {png}")
    return ExitCode.OK
