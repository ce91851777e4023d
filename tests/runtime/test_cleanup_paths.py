"""The cleanup when the session cannot carry it: the session's reader crashed (a new connection
cancels and checks every order), or a task of the supervisor's crashed (the session stays up
for the cleanup). Either way: every order cancelled and confirmed, exit CRASH."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing

from thalex_trio.runtime import supervisor
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.thalex.session import ThalexSession

from .harness import crashing_once, make_context, open_server, run_bot, runtime_tasks_left

if TYPE_CHECKING:
    from thalex_trio.sim.server.server import SimServer


class PlantedBug(Exception):
    """The crash these tests plant."""


async def arm_when_quoting(server: SimServer, armed: trio.Event) -> None:
    await trio.lowlevel.checkpoint()
    while len(server.open_orders()) < 2:  # noqa: ASYNC110  # polls simulator state
        await trio.sleep(0.1)
    armed.set()


@pytest.mark.parametrize(
    ("owner", "attribute"),
    [(ThalexSession, "run_reader"), (supervisor, "run_status_line")],
    ids=["session reader", "status line"],
)
async def test_a_crash_that_takes_the_reader_still_cancels_and_confirms(
    owner: object,
    attribute: str,
    monkeypatch: pytest.MonkeyPatch,
    virtual_clock: trio.testing.MockClock,
) -> None:
    armed = trio.Event()
    monkeypatch.setattr(
        owner, attribute, crashing_once(getattr(owner, attribute), armed, PlantedBug("planted bug"))
    )
    ctx = make_context()
    async with open_server() as server, trio.open_nursery() as nursery:
        nursery.start_soon(arm_when_quoting, server, armed)
        code = await run_bot(server, ctx, duration_s=30.0, status_interval_s=1.0)
        nursery.cancel_scope.cancel()
        assert armed.is_set()
        assert code is Outcome.CRASH
        assert ctx.stop_reason is not None
        assert "planted bug" in ctx.stop_reason
        assert ctx.cleanup_complete is True  # confirmed, not left to cancel-on-disconnect
        assert server.open_orders() == []
        assert runtime_tasks_left() == []
