"""`scripts/bench.py latency`: tick-to-order latency of live mode against the local simulator.

Runs `live --network sim` (the simulator started in the same process, reached over a real
loopback TCP socket, persistence off) until the bot has applied `--updates` market updates,
and prints the tick-to-order percentiles of that run: `p50_us`, `p90_us`, `p99_us`,
`max_us`, the median of each of its stages (`decide_p50_us`, `plan_p50_us`, `send_p50_us`:
see `tick_to_order.py`), `samples` (orders that answered a market frame) and
`orders_per_s` (every insert, amend and cancel sent, per second from the first to the
last). The configuration is the
offline one (`config/sim.toml`: the options pipeline follows the simulator's chain too).

What is measured (`thalex_trio/runtime/tick_to_order.py`): from the moment the session's
reader takes a market frame from the WebSocket connection (before decoding it) to the moment
the first order frame it causes has been handed to the connection, both stamped inside the
process by the session's hooks. When several frames are applied in one go, the oldest counts.
Everything of ours in between is in: decoding, the book, the quoter, the risk gate, the
reconciler, the rate limiter's wait, encoding, every scheduler pass, and any wait for an
answer to the previous plan (one plan in flight). Not in: the socket read and WebSocket
framing before our reader has the frame.

What is fair. The simulator runs in the same process, on the same Trio scheduler: between our
frame and our order, the scheduler may run the simulator's tasks (its market pump, matching our
previous order, encoding frames for us), and that time is the exchange's, not ours. A Trio
instrument (`thalex_trio/runtime/sim_time.py`) times every step of a simulator task (tasks
started by the simulator's code or spawned from one) and the tick-to-order clock leaves that
time out: it reads `perf_counter_ns` minus the simulator's time so far. So the figures are our
side of the socket only, as if the exchange were elsewhere. The scheduler's own work between
steps stays in (it would be there without the simulator too, if lighter), and so does the small
cost of the instrument's two calls per task step. `--include-simulator` measures with the plain
clock instead (the simulator's time counted as ours) for comparison; `sim_share` is the
fraction of the run's wall time the simulator's tasks took.

Options: `--updates N` (default 1000), `--speed X` (the synthetic market runs X times faster
than the clock; default 1, about 14 market updates and 30 orders a second: at 2 the bot's
orders already reach the exchange's 50 a second and the rate limiter's waits dominate),
`--seed`, `--config PATH` (default `config/sim.toml`), `--include-simulator`, and
`--clock cpu` (the Trio thread's CPU time instead of wall time, minus the simulator's: less
inflated by other processes on a shared machine; waits count as nothing).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from thalex_trio.config import NetworkName, load_config
from thalex_trio.runtime.app import RunOptions, run_tree
from thalex_trio.runtime.sim_time import SimulatorTime

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext
    from thalex_trio.runtime.outcome import Outcome

SIM_CONFIG = Path(__file__).resolve().parents[2] / "config" / "sim.toml"
"""The repository's offline configuration."""


def run(argv: list[str]) -> dict[str, object]:
    """Run the benchmark; the result as one JSON-able dict."""
    parser = argparse.ArgumentParser(prog="scripts/bench.py latency")
    parser.add_argument("--updates", type=int, default=1000, help="market updates to apply")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated market speed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--config", type=Path, default=SIM_CONFIG)
    parser.add_argument(
        "--include-simulator",
        action="store_true",
        help="count the in-process simulator's time as ours (plain perf_counter_ns)",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: perf_counter_ns; cpu: the Trio thread's CPU time (load-independent)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    loaded = load_config(args.config, {})
    sim_time = SimulatorTime(time.thread_time_ns if args.clock == "cpu" else time.perf_counter_ns)
    holder: list[RunContext] = []
    with tempfile.TemporaryDirectory() as keys_dir:
        options = RunOptions(
            mode="live",
            config=loaded.config,
            secrets=loaded.secrets,
            network=NetworkName.SIM,
            keys_dir=Path(keys_dir),
            persistence=False,
            status=False,
            handle_signals=False,
            print_summary=False,
            sim_seed=args.seed,
            sim_speed=args.speed,
            stop_after_market_updates=args.updates,
            latency_clock_ns=sim_time.clock_ns if args.include_simulator else sim_time.own_clock_ns,
        )
        started_s = time.perf_counter()
        outcome: Outcome = trio.run(run_tree, options, holder, instruments=[sim_time])
        elapsed_s = time.perf_counter() - started_s
    ctx = holder[0]
    stats = ctx.stats
    result: dict[str, object] = {
        **{k: round(v, 1) for k, v in stats.latency_percentiles_us().items()},
        **{k: round(v, 1) for k, v in stats.latency_stages_p50_us().items()},
        "samples": len(stats.latency_ns),
        "orders_per_s": round(stats.orders_per_s(), 1),
        "market_updates": stats.market_updates,
        "plans": stats.plans,
        "fills": stats.fills,
        "simulator_excluded": not args.include_simulator,
        "clock": args.clock,
        "sim_share": round(sim_time.sim_ns / 1e9 / elapsed_s, 3) if args.clock == "wall" else None,
        "speed": args.speed,
        "elapsed_s": round(elapsed_s, 1),
        "outcome": outcome.name,
    }
    return result
