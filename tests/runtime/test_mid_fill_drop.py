"""The connection drops exactly mid-fill: the simulator filled our order, then the socket died
before the fill was reported on it. After reconnecting, the bot's position and orders agree
with the simulator's, the lost fill is caught up, and no order of the old session is left."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import trio
import trio.testing

from thalex_trio.domain.events import FillEvent
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.position_audit import POSITION_AUDIT_S
from thalex_trio.sim.server.faults import FaultPlan, ScopedChance

from .harness import RecordingSink, make_context, open_server, run_bot, runtime_tasks_left

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.domain.fill import Fill
    from thalex_trio.sim.engine.reports import SessionId
    from thalex_trio.sim.server.connection import Connection


def fills_in(frame: bytes) -> list[str]:
    """Trade ids of the fills a `session.orders` notification reports (none for others)."""
    message = orjson.loads(frame)
    if not isinstance(message, dict) or message.get("channel_name") != "session.orders":
        return []
    return [
        str(fill["trade_id"])
        for order in message["notification"]
        if order.get("change_reason") != "existing"
        for fill in order.get("fills") or ()
    ]


class MidFillDrop:
    """Arms one connection of the simulator: the first fill it is about to report is never
    sent; the socket is dropped instead (the fill stands at the simulator)."""

    def __init__(self) -> None:
        self.dropped = trio.Event()
        self.lost_trade_ids: list[str] = []
        self.old_session_id: int | None = None

    def arm(self, conn: Connection) -> None:
        send = conn.send_notification

        def send_or_drop(frame: bytes, *args: bool, **kwargs: bool) -> None:
            trade_ids = [] if self.dropped.is_set() else fills_in(frame)
            if trade_ids:
                self.lost_trade_ids = trade_ids
                self.old_session_id = conn.session_id
                conn.close("dropped mid-fill (test fault)", abort=True)
                self.dropped.set()
                return
            send(frame, *args, **kwargs)

        conn.send_notification = send_or_drop  # type: ignore[method-assign]  # the fault's hook


async def wait_until(check: Callable[[], object]) -> None:
    """Poll `check()` (simulator and bot state have no event) every 0.1 s of virtual time."""
    await trio.lowlevel.checkpoint()
    while not check():  # noqa: ASYNC110  # polls state that has no event
        await trio.sleep(0.1)


async def test_a_drop_between_fill_and_notification_is_caught_up_after_reconnecting(
    virtual_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    sink = RecordingSink()
    ctx.sink = sink
    fault = MidFillDrop()
    after_reconnect: list[set[int]] = []
    async with open_server() as server, trio.open_nursery() as nursery:

        async def inject() -> None:
            await wait_until(lambda: ctx.stats.fills >= 1 and server.open_orders())
            (conn,) = server.connections
            fault.arm(conn)
            await fault.dropped.wait()
            # Back and quoting on a new session.
            await wait_until(
                lambda: (
                    ctx.stats.disconnects >= 1
                    and server.open_orders()
                    and all(o.session_id != fault.old_session_id for o in server.open_orders())
                )
            )
            await trio.sleep(2.0)
            after_reconnect.append({o.session_id for o in server.open_orders()})

        nursery.start_soon(inject)
        code = await run_bot(server, ctx, duration_s=30.0)
        nursery.cancel_scope.cancel()
        assert code is Outcome.OK  # a position mismatch at the reconnect would stop it
        assert fault.dropped.is_set()
        assert ctx.stats.disconnects >= 1
        assert ctx.trading is not None
        assert ctx.trading.tracker.position.size_lots == server.position().size_lots
        assert server.open_orders() == []
        assert runtime_tasks_left() == []
    recorded = {e.fill.trade_id for e in sink.events if isinstance(e, FillEvent)}
    assert fault.lost_trade_ids
    assert set(fault.lost_trade_ids) <= recorded  # caught up from the trade history
    # Two seconds after the reconnect, only the new session's orders are open.
    assert after_reconnect
    assert all(fault.old_session_id not in ids and len(ids) <= 1 for ids in after_reconnect)


async def test_fills_whose_notifications_are_lost_are_caught_up_without_a_reconnect(
    virtual_clock: trio.testing.MockClock,
) -> None:
    """Every private notification is lost for a while, fills included: the portfolio (sent
    again later) disagrees with our position, the catch-up reads the trade history, and the
    run goes on with the simulator's position and every fill recorded once."""
    ctx = make_context()
    sink = RecordingSink()
    ctx.sink = sink
    async with open_server() as server, trio.open_nursery() as nursery:
        fill_log: list[tuple[SessionId, Fill]] = []
        server.core.fill_log = fill_log

        async def inject() -> None:
            await wait_until(lambda: ctx.stats.fills >= 1 and server.open_orders())
            lost_from = len(fill_log)
            server.inject(FaultPlan(drop_notification=ScopedChance("private", 1.0)))
            await wait_until(lambda: len(fill_log) >= lost_from + 3)
            server.set_faults(FaultPlan())

        nursery.start_soon(inject)
        code = await run_bot(server, ctx, duration_s=40.0)
        nursery.cancel_scope.cancel()
        assert code is Outcome.OK  # an unexplained position mismatch would stop it
        assert ctx.stats.disconnects == 0
        assert ctx.trading is not None
        assert ctx.trading.tracker.position.size_lots == server.position().size_lots
    recorded = [e.fill.trade_id for e in sink.events if isinstance(e, FillEvent)]
    assert len(recorded) == len(set(recorded))
    assert {f.trade_id for _, f in fill_log} == set(recorded)
    assert ctx.stats.fills == len(fill_log)


async def test_the_position_audit_finds_fills_when_no_private_notification_arrives(
    virtual_clock: trio.testing.MockClock,
) -> None:
    """Every private notification is lost, the portfolio's too, so nothing raises a doubt:
    the periodic position audit alone keeps our position equal to the simulator's."""
    ctx = make_context()
    agreed: list[bool] = []
    async with open_server() as server, trio.open_nursery() as nursery:
        fill_log: list[tuple[SessionId, Fill]] = []
        server.core.fill_log = fill_log

        async def inject() -> None:
            await wait_until(lambda: server.open_orders())
            server.inject(FaultPlan(drop_notification=ScopedChance("private", 1.0)))
            await wait_until(lambda: len(fill_log) >= 3)
            # Two audits later, with the fault still on.
            await trio.sleep(2 * POSITION_AUDIT_S)
            assert ctx.trading is not None
            agreed.append(
                ctx.trading.tracker.position.size_lots == server.position().size_lots
                and ctx.stats.fills > 0
            )

        nursery.start_soon(inject)
        code = await run_bot(server, ctx, duration_s=60.0)
        nursery.cancel_scope.cancel()
    assert agreed == [True]
    assert code is Outcome.OK
