"""`thalex-trio record`: capture raw Thalex market data to gzip JSON-lines files.

    thalex-trio record --network prod --instruments BTC-PERPETUAL --out data/rec
    thalex-trio record --network test --instruments BTC-PERPETUAL --options 2 --out data/rec
    thalex-trio record --network sim --duration 60 --out /tmp/rec   # an in-process simulator

Public channels need no login; with THALEX_TRIO_KEY_ID and THALEX_TRIO_PRIVATE_KEY_FILE set
the session logs in (not with the in-process simulator, which knows only its own key). Stops
cleanly at `--duration` or on SIGINT/SIGTERM (exit 0); bad arguments exit 2.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from thalex_trio.commands.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator

    from thalex_trio.thalex.credentials import Credentials

HELP = "capture raw Thalex market data to compressed JSON-lines files"

_DELAYS = ("100ms", "200ms", "500ms", "1000ms", "5000ms", "60000ms", "raw")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the recorder's options."""
    parser.add_argument("--network", choices=("prod", "test", "sim"), default="test")
    parser.add_argument(
        "--instruments", nargs="+", default=["BTC-PERPETUAL"], metavar="NAME", help="to record"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--rotate-mb", type=float, default=100.0, metavar="MB", help="file size limit (100)"
    )
    parser.add_argument(
        "--book-levels", default="10", metavar="N|all", help="book depth per side (10)"
    )
    parser.add_argument("--delay", choices=_DELAYS, default="100ms", help="channel delay")
    parser.add_argument(
        "--options", type=int, default=0, metavar="N", help="option tickers of N first expiries"
    )
    parser.add_argument(
        "--strikes", type=int, default=3, metavar="K", help="option strikes each side of the index"
    )
    parser.add_argument(
        "--sim-url",
        metavar="URL",
        help="with --network sim: a running simulator (default: start one)",
    )
    parser.add_argument("--sim-seed", type=int, default=0, help="seed of the in-process simulator")


def _credentials() -> Credentials | None:
    from thalex_trio.thalex.credentials import Credentials

    key_id = os.environ.get("THALEX_TRIO_KEY_ID")
    key_file = os.environ.get("THALEX_TRIO_PRIVATE_KEY_FILE")
    if not (key_id and key_file):
        return None
    return Credentials.from_file(key_id, Path(key_file).expanduser())


def _usage_error(group: BaseExceptionGroup[BaseException]) -> Exception | None:
    """The first error of `group` if all are the user's to fix (unknown instrument, disk)."""
    from thalex_trio.backtest.recorder import RecordingError

    usage, rest = group.split((RecordingError, OSError))
    if usage is None or rest is not None:
        return None
    leaf: BaseException = usage
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf if isinstance(leaf, Exception) else None


@asynccontextmanager
async def _open_endpoint(args: argparse.Namespace) -> AsyncIterator[str]:
    """The URL to record from: the network's, the given simulator's, or an in-process one."""
    from thalex_trio.thalex.network import Network

    if args.network != "sim":
        yield Network.PROD.url if args.network == "prod" else Network.TEST.url
        return
    if args.sim_url:
        yield args.sim_url
        return
    from thalex_trio.sim.server.config import SimServerConfig
    from thalex_trio.sim.server.server import open_sim_server

    instrument = args.instruments[0]
    config = SimServerConfig(seed=args.sim_seed, instrument=instrument, status_interval_s=60.0)
    async with open_sim_server(config) as server:
        yield server.url


def run(args: argparse.Namespace) -> int:
    """Record until `--duration` or a signal; exit 2 on bad arguments."""
    import trio

    from thalex_trio.backtest.recorder import (
        Recorder,
        RecordingPlan,
        RecordingWriter,
    )
    from thalex_trio.thalex.channels import Delay
    from thalex_trio.thalex.credentials import CredentialsError

    def usage(message: str) -> int:
        print(f"thalex-trio record: {message}", file=sys.stderr)
        return ExitCode.USAGE

    duration_s: float | None = args.duration
    if duration_s is not None and not duration_s > 0:
        return usage("--duration must be > 0")
    if not (math.isfinite(args.rotate_mb) and args.rotate_mb > 0):
        return usage("--rotate-mb must be > 0")
    levels: int | Literal["all"] = "all"
    if args.book_levels != "all":
        if not args.book_levels.isdigit() or int(args.book_levels) <= 0:
            return usage("--book-levels must be a positive number or 'all'")
        levels = int(args.book_levels)
    if args.options < 0 or args.strikes <= 0:
        return usage("--options must be >= 0 and --strikes > 0")
    if args.network == "sim" and len(args.instruments) != 1:
        return usage("the simulator serves one instrument")
    if args.sim_url and not args.sim_url.startswith(("ws://", "wss://")):
        return usage(f"--sim-url is not a WebSocket URL: {args.sim_url}")
    if args.out.exists() and not args.out.is_dir():
        return usage(f"--out is not a folder: {args.out}")
    credentials = None
    if args.network != "sim" or args.sim_url:
        try:
            credentials = _credentials()
        except CredentialsError as exc:
            return usage(f"credentials: {exc}")
    plan = RecordingPlan(
        tuple(args.instruments),
        book_levels=levels,
        delay=Delay(args.delay),
        option_expiries=args.options,
        option_strikes_each_side=args.strikes,
    )
    writer = RecordingWriter(args.out, rotate_bytes=max(1, round(args.rotate_mb * 2**20)))
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    log = logging.getLogger("thalex_trio.record")

    async def main() -> Recorder:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with _open_endpoint(args) as url, trio.open_nursery() as nursery:
                recorder = Recorder(url, plan, writer, credentials=credentials)

                async def stop_on_signal() -> None:
                    async for signum in signals:
                        log.info("signal %d: stopping", signum)
                        nursery.cancel_scope.cancel()

                nursery.start_soon(stop_on_signal)
                if duration_s is not None:
                    nursery.cancel_scope.deadline = trio.current_time() + duration_s
                channels = await nursery.start(recorder.run)
                log.info("recording %s to %s", ", ".join(channels), args.out)
            return recorder

    try:
        recorder = trio.run(main)
    except BaseExceptionGroup as group:
        error = _usage_error(group)
        if error is None:
            raise
        return usage(str(error))
    log.info(
        "stopped: %d frames (%d dropped) in %s",
        recorder.buffer.frames,
        recorder.buffer.dropped,
        ", ".join(str(p) for p in recorder.writer.files),
    )
    return ExitCode.OK
