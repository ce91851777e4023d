"""A crash injected into each task of a live run in turn: the whole tree unwinds, every order is
cancelled at the simulator within the cleanup deadline, no task of ours is left, and the exit
status is CRASH (crash-only: a bug is never retried, never swallowed).

Each task function is wrapped (monkeypatched where its caller looks it up): the wrapper runs the
real task and, once our quotes rest at the simulator, raises from the task's place in the tree.
It crashes once; a later start of the same function (the cleanup restarts the order feed) runs
the real one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing
from attrs import frozen

from thalex_trio.runtime import executor, session_task, supervisor
from thalex_trio.runtime.options import OptionsPipeline
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.venue import LiveVenue
from thalex_trio.thalex.session import ThalexSession

from ..runtime.harness import (
    crashing_once,
    make_context,
    run_bot,
    running_task_names,
    runtime_tasks_left,
)
from .live import OPTIONS_MARKET, open_market_server, wait_until_quoting

if TYPE_CHECKING:
    from thalex_trio.sim.server.server import SimServer


class InjectedCrash(Exception):
    """The bug this test plants."""


@frozen
class Target:
    """A task function and where its caller looks it up."""

    task: str
    owner: object
    attribute: str
    options: bool = False
    """The task runs only when the session follows the options chain."""


TARGETS = [
    Target("market feed", session_task, "run_market_feed"),
    Target("order feed", session_task, "run_order_feed"),
    Target("quote loop", session_task, "run_quote_loop"),
    Target("executor", session_task, "run_executor"),
    Target("executor's in-flight send", executor, "_send_in_flight"),
    Target("risk watchdog", session_task, "run_watchdog"),
    Target("persistence tap", session_task, "run_persistence_tap"),
    Target("position audit", session_task, "run_position_audit"),
    Target("reconnect notice watcher", session_task, "_watch_reconnect_notice"),
    Target("book refresher", session_task, "_refresh_book"),
    Target("options pipeline", OptionsPipeline, "run", options=True),
    Target("venue order forwarder", LiveVenue, "run"),
    Target("session reader", ThalexSession, "run_reader"),
    Target("heartbeat", ThalexSession, "run_heartbeat"),
    Target("status line", supervisor, "run_status_line"),
    Target("signal watcher", supervisor, "_watch_signals"),
    Target("duration timer", supervisor, "_stop_after"),
]


async def arm_when_quoting(server: SimServer, armed: trio.Event) -> None:
    """Set `armed` once our quotes rest at the simulator."""
    await wait_until_quoting(server)
    armed.set()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.task)
async def test_a_crash_in_any_task_unwinds_everything(
    target: Target, monkeypatch: pytest.MonkeyPatch, virtual_clock: trio.testing.MockClock
) -> None:
    armed = trio.Event()
    crash = InjectedCrash(f"injected crash in the {target.task}")
    original = getattr(target.owner, target.attribute)
    monkeypatch.setattr(target.owner, target.attribute, crashing_once(original, armed, crash))
    ctx = make_context()
    async with open_market_server(OPTIONS_MARKET) as server:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(arm_when_quoting, server, armed)
            outcome = await run_bot(
                server,
                ctx,
                duration_s=60.0,
                status_interval_s=1.0,
                handle_signals=True,
                follow_options=target.options,
            )
            nursery.cancel_scope.cancel()
        left_at_simulator = server.open_orders()
        tasks_left = runtime_tasks_left()
    assert armed.is_set(), "the run ended before quoting"
    observed = {
        "exit status": outcome,
        "cleanup complete": ctx.cleanup_complete,
        "orders left at the simulator": len(left_at_simulator),
        "tasks of ours left": tasks_left,
    }
    assert observed == {
        "exit status": Outcome.CRASH,
        "cleanup complete": True,
        "orders left at the simulator": 0,
        "tasks of ours left": [],
    }
    assert ctx.stop_reason is not None
    assert f"injected crash in the {target.task}" in ctx.stop_reason


def qualified(target: Target) -> str:
    """The name Trio gives a task running `target`'s function (where it is defined)."""
    function = getattr(target.owner, target.attribute)
    return f"{function.__module__}.{function.__qualname__}"


def bot_task_names() -> set[str]:
    """Names of the running tasks of the bot (the simulator's and libraries' left out)."""
    return set(
        running_task_names(
            lambda name: name.startswith("thalex_trio.") and not name.startswith("thalex_trio.sim.")
        )
    )


async def test_every_task_of_a_live_run_has_a_crash_case(
    virtual_clock: trio.testing.MockClock,
) -> None:
    seen: set[str] = set()
    ctx = make_context()
    async with open_market_server(OPTIONS_MARKET) as server:

        async def sample() -> None:
            await arm_when_quoting(server, trio.Event())
            while True:
                seen.update(bot_task_names())
                await trio.sleep(0.25)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(sample)
            outcome = await run_bot(
                server,
                ctx,
                duration_s=5.0,
                status_interval_s=1.0,
                handle_signals=True,
                follow_options=True,
            )
            nursery.cancel_scope.cancel()
    assert outcome is Outcome.OK
    assert seen, "no task of the bot was seen"
    assert seen <= {qualified(t) for t in TARGETS}, seen - {qualified(t) for t in TARGETS}
