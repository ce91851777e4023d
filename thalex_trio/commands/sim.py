"""`thalex-trio sim`: a local exchange that speaks the Thalex protocol.

Prints `listening on ws://HOST:PORT/ws/api/v2` on stdout once it accepts connections, then
logs to stderr (a status line every few seconds). Runs until SIGINT/SIGTERM or `--duration`.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from thalex_trio.commands.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse

HELP = "run a local exchange that speaks the Thalex protocol"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the simulator's options."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the market and the faults")
    parser.add_argument(
        "--market",
        default="synthetic",
        metavar="synthetic|replay:PATH",
        help="synthetic random-walk market, or Binance captures (file, directory or glob)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed multiplier")
    parser.add_argument("--instrument", default="BTC-PERPETUAL", help="instrument name served")
    parser.add_argument(
        "--keys-dir",
        type=Path,
        metavar="DIR",
        help="development key folder (default: $XDG_DATA_HOME/thalex_trio/sim-keys)",
    )
    parser.add_argument(
        "--faults", default="", metavar="SPEC", help="fault injection plan (see README)"
    )
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--status-interval", type=float, default=5.0, metavar="S", help="status line period"
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 on bad arguments."""
    import trio

    from thalex_trio.sim.server.config import SimServerConfig, parse_market
    from thalex_trio.sim.server.faults import FaultPlan, FaultSpecError
    from thalex_trio.sim.server.keys import default_keys_dir
    from thalex_trio.sim.server.server import open_sim_server

    def usage(message: str) -> int:
        print(f"thalex-trio sim: {message}", file=sys.stderr)
        return ExitCode.USAGE

    try:
        faults = FaultPlan.parse(args.faults)
    except FaultSpecError as exc:
        return usage(f"bad --faults: {exc}")
    try:
        market = parse_market(args.market)
    except ValueError as exc:
        return usage(f"bad --market: {exc}")
    if not args.speed > 0:
        return usage("--speed must be > 0")
    if not 0 <= args.port <= 65535:
        return usage("--port must be between 0 and 65535")
    duration_s: float | None = args.duration
    config = SimServerConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        market=market,
        speed=args.speed,
        instrument=args.instrument,
        keys_dir=args.keys_dir or default_keys_dir(),
        faults=faults,
        status_interval_s=args.status_interval,
    )
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )

    async def main() -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with open_sim_server(config) as server:
                print(f"listening on {server.url}", flush=True)
                logging.getLogger("thalex_trio.sim").info(
                    "dev key %s at %s; faults: %s",
                    server.key_id,
                    server.private_key_path,
                    str(server.faults) or "none",
                )
                with trio.move_on_after(duration_s if duration_s is not None else float("inf")):
                    async for _ in signals:
                        break

    try:
        trio.run(main)
    except OSError as exc:
        return usage(f"cannot serve: {exc}")
    return ExitCode.OK
