"""The whole task tree against the in-memory simulator, on virtual time."""

from __future__ import annotations

import functools
import random
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import trio

from thalex_trio.domain.events import RunId
from thalex_trio.reconcile.params import ReconcileParams
from thalex_trio.risk.limits import RiskLimits
from thalex_trio.runtime.clock import TrioWallClock
from thalex_trio.runtime.context import RunContext, reconcile_settings
from thalex_trio.runtime.session_task import SessionSpec, run_session
from thalex_trio.runtime.supervisor import run_supervised
from thalex_trio.runtime.venue import LiveVenue
from thalex_trio.sim.market.params import OptionChainParams, SyntheticParams
from thalex_trio.sim.server.config import SimServerConfig, Synthetic
from thalex_trio.sim.server.server import SimServer, open_sim_server
from thalex_trio.store.sink import NullSink
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.thalex.credentials import Credentials, Secret

from ..thalex.keys import private_pem, rsa_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from thalex_trio.domain.events import StoreEvent
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.runtime.outcome import Outcome
    from thalex_trio.runtime.venue import Venue
    from thalex_trio.thalex.session import ThalexSession

KEY_ID = "K000000042"
URL = "ws://sim/ws/api/v2"
EPOCH_S = 1_720_000_000.0
_last_wall_s = [0.0]

__all__ = ["RunContext", "SimServer"]

BUSY_MARKET = SyntheticParams(seed=7, arrival_a_per_s=20.0, options=None)
"""Many market orders, so our quotes at the touch fill within seconds."""

LIMITS = RiskLimits(max_position_lots=50, max_exposure_lots=100, max_order_lots=50)


def wall_clock() -> float:
    """Wall seconds moving with Trio time, strictly increasing (the server refuses a reused
    JWT `iat`)."""
    now = max(EPOCH_S + trio.current_time(), _last_wall_s[0] + 1e-3)
    _last_wall_s[0] = now
    return now


@asynccontextmanager
async def open_server(
    seed: int = 7,
    options: OptionChainParams | None = None,
    clock: Callable[[], float] = wall_clock,
    market_params: SyntheticParams | None = None,
) -> AsyncIterator[SimServer]:
    """The simulator, in memory, with the test key (and an option chain when given);
    `clock` is its wall clock (the market's start time). `market_params` replaces the
    default busy market (its seed and options included)."""
    params = market_params or SyntheticParams(seed=seed, arrival_a_per_s=20.0, options=options)
    market = Synthetic(params)
    config = SimServerConfig(listen=False, wall_clock=clock, market=market, seed=seed)
    async with open_sim_server(config, public_keys={KEY_ID: rsa_key().public_key()}) as server:
        yield server


class RecordingSink:
    """Keeps every event the run emits."""

    def __init__(self) -> None:
        self.events: list[StoreEvent] = []

    def emit(self, event: StoreEvent) -> None:
        self.events.append(event)


def make_context(limits: RiskLimits = LIMITS) -> RunContext:
    """A run context on virtual time that records nothing."""
    params, rlimits = reconcile_settings(ReconcileParams(), limits)
    return RunContext(
        run_id=RunId("test"),
        mode="live",
        clock=TrioWallClock(int(EPOCH_S * 1e9)),
        sink=NullSink(),
        risk_limits=limits,
        reconcile_params=params,
        reconcile_limits=rlimits,
    )


def live_venue(session: ThalexSession, instrument: Instrument) -> Venue:
    """Orders to the simulator."""
    return LiveVenue(session, instrument)


async def run_bot(
    server: SimServer,
    ctx: RunContext,
    *,
    duration_s: float | None,
    handle_signals: bool = False,
    make_venue: Callable[[ThalexSession, Instrument], Venue] = live_venue,
    logged_in: bool = True,
    follow_options: bool = False,
    make_quoter: Callable[[Instrument], Quoter] = Quoter,
    status_interval_s: float | None = None,
) -> Outcome:
    """The supervised tree against `server`; its exit status. Without `logged_in` the session
    uses the public channels only (as shadow mode does)."""
    spec = SessionSpec(
        endpoint=URL,
        credentials=Credentials(KEY_ID, Secret(private_pem())) if logged_in else None,
        instrument_name="BTC-PERPETUAL",
        underlying="BTCUSD",
        connect=server.connect_memory,
        wall_clock_s=wall_clock,
        follow_options=follow_options,
    )
    return await run_supervised(
        ctx,
        functools.partial(run_session, ctx, spec, make_venue, make_quoter),
        duration_s=duration_s,
        status_interval_s=status_interval_s,
        handle_signals=handle_signals,
        rng=random.Random(0),
    )


def running_task_names(keep: Callable[[str], bool]) -> list[str]:
    """Names of the running tasks (the whole tree from the root) that `keep` accepts."""
    names: list[str] = []

    def walk(task: trio.lowlevel.Task) -> None:
        if keep(task.name):
            names.append(task.name)
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                walk(child)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    walk(root)
    return names


def runtime_tasks_left() -> list[str]:
    """Names of tasks of ours still running (the simulator's own tasks excluded)."""
    return running_task_names(lambda name: "thalex_trio.runtime" in name)


def crashing_once(
    task: Callable[..., Awaitable[object]], armed: trio.Event, crash: Exception
) -> Callable[..., Awaitable[None]]:
    """`task`, raising `crash` from its place in the tree once `armed` is set; only once: a
    later start of the same function (the cleanup restarts the order feed) runs the real one."""
    crashed = False

    @functools.wraps(task)
    async def wrapper(*args: object, **kwargs: object) -> None:
        nonlocal crashed
        if crashed:
            await task(*args, **kwargs)
            return
        async with trio.open_nursery() as nursery:
            # The real task runs beside the wrapper (readiness passes through `task_status`).
            nursery.start_soon(functools.partial(task, *args, **kwargs))
            await armed.wait()
            crashed = True
            raise crash

    return wrapper
