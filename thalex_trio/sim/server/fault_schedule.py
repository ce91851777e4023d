"""The timed half of a fault plan: one task that sleeps until the next scheduled fault, fires
it, and re-reads the plan (tests and the soak harness may change it while running)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from thalex_trio.sim.server.faults import At, Burst, Chance, FaultPlan, When

if TYPE_CHECKING:
    from thalex_trio.sim.server.server import SimServer

_log = logging.getLogger(__name__)

RECHECK_S = 1.0
"""How often the schedule re-reads a plan that has no timed fault."""


def timed_faults(plan: FaultPlan) -> dict[str, When]:
    """The plan's time-triggered faults by kind."""
    out: dict[str, When] = {}
    if plan.drop_connection is not None:
        out["drop_connection"] = plan.drop_connection
    if isinstance(plan.throttle, Burst):
        out["throttle"] = plan.throttle.when
    if plan.malformed is not None and not isinstance(plan.malformed, Chance):
        out["malformed"] = plan.malformed
    if plan.reconnect_notice is not None:
        out["reconnect_notice"] = plan.reconnect_notice.when
    if plan.restart is not None:
        out["restart"] = plan.restart.when
    if plan.blackhole is not None:
        out["blackhole"] = plan.blackhole
    return out


async def run_fault_schedule(server: SimServer) -> None:
    """Fire timed faults at their times (seconds since the server started)."""
    injector = server.core.injector
    clock = server.core.clock
    due: dict[str, float | None] = {}
    seen: dict[str, When] = {}
    while True:
        timed = timed_faults(injector.plan)
        for kind, when in timed.items():
            if seen.get(kind) != when:  # new or changed: `at` counts from start, others from now
                seen[kind] = when
                since = None if isinstance(when, At) else clock.elapsed_s()
                due[kind] = injector.next_fire_s(kind, when, since)
        for kind in list(seen):
            if kind not in timed:
                del seen[kind]
                due.pop(kind, None)
        pending = {k: t for k, t in due.items() if t is not None}
        now_s = clock.elapsed_s()
        fired = [k for k, t in pending.items() if t <= now_s]
        for kind in fired:
            _fire(server, kind)
            due[kind] = injector.next_fire_s(kind, seen[kind], pending[kind])
        if fired:
            continue
        wake_s = min(pending.values(), default=now_s + RECHECK_S)
        await trio.sleep_until(clock.trio_origin_s + min(wake_s, now_s + RECHECK_S))


def _fire(server: SimServer, kind: str) -> None:
    plan = server.core.injector.plan
    server.core.injector.injected[kind] += 1
    _log.warning("fault: %s", kind)
    match kind:
        case "drop_connection":
            server.drop_connections()
        case "throttle":
            assert isinstance(plan.throttle, Burst)
            server.start_throttle_burst(plan.throttle.count)
        case "malformed":
            server.send_malformed()
        case "reconnect_notice":
            assert plan.reconnect_notice is not None
            server.send_reconnect_notice(plan.reconnect_notice.grace_s)
        case "restart":
            assert plan.restart is not None
            server.start_restart(persist=plan.restart.persist, downtime_s=plan.restart.downtime_s)
        case "blackhole":
            server.blackhole_connections()
        case _:
            raise AssertionError(kind)
