"""Injecting one episode of the schedule into the simulator or the database.

Each fault is reported through `on_fault` as it starts, with the time it is due to end, so a
fault the run does not outlive (the bot stopping mid-window) is still counted. An armed fault
is reported when it happens, and not at all if its moment never came. The simulator's fault
plan is empty again at the end of every window.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from thalex_trio.sim.server.faults import FaultPlan
from thalex_trio.soak.invariants import InjectedFault
from thalex_trio.soak.schedule import ARMED_KINDS, FaultKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.sim.server.server import SimServer
    from thalex_trio.soak.database import SoakDatabase
    from thalex_trio.soak.schedule import Episode

_log = logging.getLogger(__name__)

BURST_DEADLINE_S = 60.0
"""Longest a throttle burst is waited on to be used up (it then ends there regardless)."""

ARMED_POLL_S = 0.01
"""How often an armed fault's counter is read (to disarm it once it happened)."""

_SIM_COUNTER = {
    FaultKind.DROP_MID_FILL: "drop_mid_fill",
    FaultKind.DROP_MID_PLAN: "drop_mid_request",
}
"""The simulator's injection counter of each armed kind."""


async def inject(
    episode: Episode,
    server: SimServer,
    database: SoakDatabase,
    now_s: Callable[[], float],
    on_fault: Callable[[InjectedFault], None],
) -> None:
    """Run `episode` (returns when its window is over); `now_s` is the soak's clock."""
    await trio.lowlevel.checkpoint()
    kind = episode.kind
    if kind in ARMED_KINDS:
        await _armed(episode, server, now_s, on_fault)
        return
    if kind is FaultKind.THROTTLE_BURST:
        await _throttle_burst(episode, server, now_s, on_fault)
        return
    start_s = now_s()
    newest = _newest_session(server)
    window_s = episode.grace_s if kind is FaultKind.RECONNECT_NOTICE else episode.window_s
    # A reconnect notice's grace does not hold the bot back: it may reconnect at once.
    end_s = start_s if kind is FaultKind.RECONNECT_NOTICE else start_s + window_s
    on_fault(
        InjectedFault(
            kind, start_s, end_s, episode.describe(), newest if kind.ends_session else None
        )
    )
    match kind:
        case FaultKind.DROP_CONNECTION:
            server.drop_connections()
        case FaultKind.PARTITION:
            server.blackhole_connections()
        case FaultKind.RECONNECT_NOTICE:
            server.send_reconnect_notice(episode.grace_s)
        case FaultKind.RESTART:
            await server.restart(persist=True, downtime_s=episode.downtime_s)
        case FaultKind.DB_OUTAGE:
            await trio.to_thread.run_sync(database.stop)
            try:
                await trio.sleep(max(0.0, end_s - now_s()))
            finally:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(database.start)
        case _:
            if kind is FaultKind.MALFORMED:
                server.send_malformed()
            server.set_faults(episode.sim_plan())
            try:
                await trio.sleep(episode.window_s)
            finally:
                server.set_faults(FaultPlan())


async def _throttle_burst(
    episode: Episode,
    server: SimServer,
    now_s: Callable[[], float],
    on_fault: Callable[[InjectedFault], None],
) -> None:
    """Throttle the next `count` engine requests; the fault ends when the last of them was
    refused (or its connection is gone), not when its window does: recovery counts from there,
    so quotes that merely rest through the burst do not pass for a recovery."""
    start_s = now_s()
    server.start_throttle_burst(episode.count)
    # A bot that sends nothing never uses the burst up: the wait is bounded.
    deadline_s = start_s + BURST_DEADLINE_S
    while now_s() < deadline_s and any(conn.burst_left > 0 for conn in server.connections):  # noqa: ASYNC110  # polls simulator state
        await trio.sleep(ARMED_POLL_S)
    await trio.lowlevel.checkpoint()
    end_s = now_s()
    on_fault(InjectedFault(episode.kind, start_s, end_s, episode.describe()))
    await trio.sleep(max(0.0, start_s + episode.window_s - end_s))


async def _armed(
    episode: Episode,
    server: SimServer,
    now_s: Callable[[], float],
    on_fault: Callable[[InjectedFault], None],
) -> None:
    """Arm the fault, wait for it to happen once within the window, disarm it."""
    await trio.lowlevel.checkpoint()
    counter = _SIM_COUNTER[episode.kind]
    before = server.injected.get(counter, 0)
    deadline_s = now_s() + episode.window_s
    newest = _newest_session(server)
    server.set_faults(episode.sim_plan())
    try:
        while now_s() < deadline_s:
            if server.injected.get(counter, 0) > before:
                at_s = now_s()
                on_fault(InjectedFault(episode.kind, at_s, at_s, episode.describe(), newest))
                return
            # The session it can end: the newest one before it happened.
            newest = _newest_session(server) or newest
            await trio.sleep(ARMED_POLL_S)
    finally:
        server.set_faults(FaultPlan())
    _log.warning("%s armed for %.1f s never happened", episode.kind.value, episode.window_s)


def _newest_session(server: SimServer) -> int | None:
    return max((c.session_id for c in server.connections), default=None)
