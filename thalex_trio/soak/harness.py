"""One soak run: database, simulator, the bot as a subprocess, the schedule and the checks.

Task tree (one nursery while the bot runs):

    run_soak
     |- the bot's stdout and stderr -> files in the artifacts folder (stderr read for its
     |  readiness, status lines and errors)
     |- poller     every POLL_S: observe the simulator, feed the continuous checks, RSS
     |- schedule   episodes in order, each once the bot recovered from the previous fault
     |- watcher    the bot must not exit before it is told to

Then the bot gets SIGTERM, the end-of-run checks read the store, and the artifacts folder, the
logs and the stored rows are scanned for secrets (`report`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import trio
from attrs import define, field, frozen

from thalex_trio.config import load_config
from thalex_trio.sim.server.config import SimServerConfig
from thalex_trio.sim.server.server import open_sim_server
from thalex_trio.soak import bot
from thalex_trio.soak.database import open_soak_database, read_run
from thalex_trio.soak.end_checks import SimSnapshot
from thalex_trio.soak.inject import inject
from thalex_trio.soak.invariants import (
    CancelOnDisconnectCheck,
    ExposureCheck,
    InjectedFault,
    Observation,
    ReconnectCheck,
    RecoveryTracker,
)
from thalex_trio.soak.leaks import SecretScanner, pem_body_lines
from thalex_trio.soak.probe import Probe
from thalex_trio.soak.report import BotEnd, SimEnd, build_summary, write_fills, write_views
from thalex_trio.soak.schedule import FaultKind, Schedule, build_schedule
from thalex_trio.soak.streams import copy_lines, copy_stream, stop_process

if TYPE_CHECKING:
    from thalex_trio.sim.server.server import SimServer
    from thalex_trio.soak.database import SoakDatabase
    from thalex_trio.soak.summary import SoakSummary

_log = logging.getLogger(__name__)

POLL_S = 0.1
"""How often the simulator's state is checked."""

RSS_EVERY_S = 1.0
"""How often the bot's memory is sampled."""

RECOVERY_BOUND_S = 40.0
"""Every fault must be followed by two-sided quoting within this. The bot's own constants add
up to about that in the worst case: a partition takes up to 6 s to notice (2 s pings, 4 s pong
deadline) plus the 5 s cleanup deadline on the dead socket, the reconnect backoff is capped at
15 s, and the stale market data meanwhile puts it in REDUCING: 5 s of cooldown (the soak's
setting) and 6 s of ramp before one-lot quotes come back."""

RSS_FACTOR = 1.5
"""The bot's RSS at the end may be at most this times its RSS after the warm-up."""

COD_TOLERANCE_S = 1.0
"""Slack beyond the cancel-on-disconnect window: the simulator's watchdog tick and our poll."""

CALM_S = 1.0
"""Quiet time after a recovery before the next fault."""

READY_DEADLINE_S = 120.0
"""The bot must quote this soon after it is started (imports, JIT, database migrations)."""

STOP_DEADLINE_S = 30.0
"""The bot must exit this soon after SIGTERM."""

EXIT_ORDERS_DEADLINE_S = 3.0
"""After the bot exits, the simulator must show none of our orders within this."""


@frozen
class SoakOptions:
    """What to run."""

    duration_s: float
    seed: int
    kinds: tuple[FaultKind, ...]
    out_dir: Path
    config_path: Path
    recovery_bound_s: float = RECOVERY_BOUND_S
    rss_factor: float = RSS_FACTOR


@define
class RunState:
    """What the tasks of one run share (each field written by the task its comment names)."""

    options: SoakOptions
    schedule: Schedule
    cod: CancelOnDisconnectCheck
    exposure: ExposureCheck
    recovery: RecoveryTracker
    reconnect: ReconnectCheck = field(factory=ReconnectCheck)
    origin_s: float = 0.0  # driver: Trio time of the bot's first quote
    started: trio.Event = field(factory=trio.Event)  # log reader: the bot first quoted
    readies_pending: int = 0  # log reader -> poller: (re)starts not yet checked
    snapshots: list[SimSnapshot] = field(factory=list)  # poller
    session_seen_ns: dict[int, int] = field(factory=dict)  # poller
    rss: list[tuple[float, int]] = field(factory=list)  # poller: (t_s, bytes)
    warm_rss: int | None = None  # schedule: taken as the first fault starts
    last_recovered_s: float = 0.0  # poller
    bot_log: list[str] = field(factory=list)  # log reader: notable lines
    status_times: list[float] = field(factory=list)  # log reader: the bot's status lines
    stopped_at_s: float | None = None  # driver: when SIGTERM was sent
    exited_early: bool = False  # watcher
    stopping: bool = False  # driver

    def now_s(self) -> float:
        """Seconds since the origin."""
        return trio.current_time() - self.origin_s


def run_soak(options: SoakOptions) -> SoakSummary:
    """Run a soak to the end and return its summary (also written to `out_dir`)."""
    return trio.run(_main, options)


async def _main(options: SoakOptions) -> SoakSummary:
    await trio.Path(options.out_dir).mkdir(parents=True, exist_ok=True)
    loaded = load_config(options.config_path, {})
    run = RunState(
        options,
        build_schedule(options.seed, options.duration_s, options.kinds),
        CancelOnDisconnectCheck(loaded.config.network.cancel_on_disconnect_s, COD_TOLERANCE_S),
        ExposureCheck(loaded.config.risk.max_exposure_lots or 0),
        RecoveryTracker(options.recovery_bound_s),
    )
    work = Path(await trio.to_thread.run_sync(tempfile.mkdtemp, None, "thalex-trio-soak-"))
    stack = contextlib.ExitStack()
    try:
        database = await trio.to_thread.run_sync(stack.enter_context, open_soak_database(work))
        started = time.monotonic()
        bot_end, sim_end, pem = await _run_with_bot(
            run, database, work, loaded.config.instrument.name
        )
        elapsed_s = time.monotonic() - started
        await write_fills(options.out_dir / "sim_fills.csv", sim_end.fills)
        scanner = SecretScanner(
            {f"private key line {i + 1}": line for i, line in enumerate(pem_body_lines(pem))}
            | {"DSN password": database.password}
        )
        stored = await trio.to_thread.run_sync(
            read_run, database.store_dsn, lambda text: scanner.scan_text("store row", text)
        )
        await write_views(options.out_dir / "views.csv", run, stored, sim_end.wall_origin_ns)
        await trio.to_thread.run_sync(scanner.scan_tree, options.out_dir)
        summary = build_summary(
            run,
            bot_end,
            sim_end,
            stored,
            scanner,
            elapsed_s=elapsed_s,
            outages=database.outages,
        )
        await trio.Path(options.out_dir / "summary.json").write_text(summary.to_json())
        return summary
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(stack.close)
            await trio.to_thread.run_sync(shutil.rmtree, work, True)


async def _run_with_bot(
    run: RunState, database: SoakDatabase, work: Path, instrument: str
) -> tuple[BotEnd, SimEnd, str]:
    """The simulator and the bot from start to exit: how each ended, and the key's PEM."""
    options = run.options
    out = options.out_dir
    keys_dir = work / "keys"
    config = SimServerConfig(
        keys_dir=keys_dir, seed=options.seed, instrument=instrument, status_interval_s=10.0
    )
    async with open_sim_server(config) as server:
        server.core.fill_log = []
        assert server.private_key_path is not None
        pem = await trio.Path(server.private_key_path).read_text()
        command = bot.bot_command(options.config_path, server.url, keys_dir)
        _log.info("bot: %s", " ".join(command))
        process = await trio.lowlevel.open_process(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=bot.bot_environment(os.environ, database.dsn, out / "bot-data"),
        )
        stdout: list[bytes] = []
        async with trio.open_nursery() as nursery:
            assert process.stdout is not None
            assert process.stderr is not None
            nursery.start_soon(copy_stream, process.stdout, out / "bot.stdout.log", stdout)
            nursery.start_soon(
                copy_lines,
                process.stderr,
                out / "bot.stderr.jsonl",
                lambda line: _on_log_line(run, line),
            )
            try:
                await _drive(run, server, database, process)
            finally:
                with trio.CancelScope(shield=True):
                    exit_code = await stop_process(process, STOP_DEADLINE_S)
        table = bot.parse_summary_table(b"".join(stdout).decode(errors="replace"))
        bot_end = BotEnd(exit_code, table, await _orders_left_after_exit(server))
        assert server.core.fill_log is not None
        sim_end = SimEnd(
            position_lots=server.position().size_lots,
            fills=tuple((int(s), f) for s, f in server.core.fill_log),
            fault_hits=server.injected,
            market_trades=int(server.stats()["trades"]),
            lot_size=server.core.instruments[instrument].volume_tick_size,
            wall_origin_ns=time.time_ns() - int(run.now_s() * 1e9),
        )
    return bot_end, sim_end, pem


async def _drive(
    run: RunState, server: SimServer, database: SoakDatabase, process: trio.Process
) -> None:
    """From the bot's start to the moment it is to be stopped."""
    options = run.options
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watch_exit, run, process, nursery.cancel_scope)
        with trio.move_on_after(READY_DEADLINE_S):
            await run.started.wait()
        if run.started.is_set():
            run.origin_s = trio.current_time()
            nursery.start_soon(_poll, run, server, process)
            await _run_schedule(run, server, database)
            end_s = max(options.duration_s, run.now_s() + run.schedule.tail_s)
            await _wait_recovered(run)
            await trio.sleep_until(run.origin_s + max(end_s, run.now_s()))
            run.stopped_at_s = run.now_s()
        else:
            run.bot_log.append(f"the bot did not quote within {READY_DEADLINE_S:g} s")
        run.stopping = True
        nursery.cancel_scope.cancel()


async def _run_schedule(run: RunState, server: SimServer, database: SoakDatabase) -> None:
    await trio.lowlevel.checkpoint()
    for episode in run.schedule.episodes:
        await trio.sleep_until(run.origin_s + episode.not_before_s)
        if run.recovery.waiting:
            await _wait_recovered(run)
            await trio.sleep_until(run.origin_s + run.last_recovered_s + CALM_S)
        if run.warm_rss is None and run.rss:
            run.warm_rss = run.rss[-1][1]
        await inject(episode, server, database, run.now_s, lambda f: _on_fault(run, f))


def _on_fault(run: RunState, fault: InjectedFault) -> None:
    run.recovery.fault(fault)
    _log.warning("t=%.1fs fault %s: %s", fault.start_s, fault.kind.value, fault.detail)
    print(f"t={fault.start_s:7.1f}s  {fault.kind.value:<26} {fault.detail}", flush=True)


async def _wait_recovered(run: RunState) -> None:
    """Until every fault so far is recovered from, or the recovery bound after the latest
    one ended (the recovery check then fails; the schedule goes on)."""
    await trio.lowlevel.checkpoint()
    latest_end_s = max((f.end_s for f in run.recovery.pending), default=run.now_s())
    deadline_s = latest_end_s + run.recovery.bound_s
    while run.recovery.waiting and run.now_s() < deadline_s:  # noqa: ASYNC110  # the poller updates it
        await trio.sleep(POLL_S)


async def _poll(run: RunState, server: SimServer, process: trio.Process) -> None:
    """Observe the simulator every POLL_S and feed every continuous check."""
    next_rss_s = 0.0
    probe = Probe(server, run.origin_s)
    while True:
        obs = probe.observe()
        run.cod.observe(obs)
        run.exposure.observe(obs)
        before = len(run.recovery.recoveries)
        run.recovery.observe(obs)
        for recovery in run.recovery.recoveries[before:]:
            run.last_recovered_s = obs.t_s
            took = recovery.recovery_s or 0.0
            print(
                f"{'':10}  recovered from {recovery.fault.kind.value} in {took:.2f} s", flush=True
            )
        while run.readies_pending:
            run.readies_pending -= 1
            run.reconnect.on_ready(obs)
        run.snapshots.append(_snapshot(run, obs))
        if obs.t_s >= next_rss_s:
            next_rss_s = obs.t_s + RSS_EVERY_S
            rss = bot.rss_bytes(process.pid)
            if rss is not None:
                run.rss.append((obs.t_s, rss))
        await trio.sleep(POLL_S)


def _snapshot(run: RunState, obs: Observation) -> SimSnapshot:
    """Our open orders for the view comparison, with the bot's current session's start."""
    for session in obs.sessions:
        run.session_seen_ns.setdefault(session.session_id, obs.wall_ns)
    newest = obs.newest_session_id
    current = None if newest is None else obs.session(newest)
    connected = (
        current is not None
        and not current.partitioned
        and current.silent_s <= (current.cancel_on_disconnect_s or float("inf"))
    )
    return SimSnapshot(
        obs.wall_ns,
        0 if newest is None else run.session_seen_ns[newest],
        connected,
        frozenset(o.client_order_id for o in obs.orders if o.client_order_id is not None),
    )


async def _watch_exit(run: RunState, process: trio.Process, scope: trio.CancelScope) -> None:
    await process.wait()
    if not run.stopping:
        run.exited_early = True
        run.bot_log.append(f"the bot exited with {process.returncode} before it was stopped")
        scope.cancel()


async def _orders_left_after_exit(server: SimServer) -> int:
    with trio.move_on_after(EXIT_ORDERS_DEADLINE_S):
        await trio.lowlevel.checkpoint()
        while server.open_orders():  # noqa: ASYNC110  # the simulator's state has no event
            await trio.sleep(POLL_S)
    return len(server.open_orders())


def _on_log_line(run: RunState, text: str) -> None:
    """One line of the bot's stderr: readiness, status lines, errors."""
    line = bot.parse_log_line(text)
    if bot.READY_MARKER in line.message:
        if run.started.is_set():
            run.readies_pending += 1
        else:
            run.started.set()
    elif line.logger == bot.STATUS_LOGGER and line.time_s is not None:
        run.status_times.append(line.time_s)
    elif line.level in ("ERROR", "CRITICAL", "RAW") and len(run.bot_log) < 50:
        run.bot_log.append(f"bot {line.level}: {line.message[:300]}")
