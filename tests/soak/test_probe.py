"""The probe reads the simulator into observations: orders, sessions, position, and when each
order took its current price and size."""

from __future__ import annotations

import trio

from thalex_trio.soak.probe import Probe

from ..sim_server.harness import open_test_server
from ..sim_server.test_protocol import call, code
from .test_sim_faults import RESTING_BUY, login


async def test_the_probe_sees_orders_sessions_and_amends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server, server.connect_memory() as ws:
        probe = Probe(server, trio.current_time())
        assert probe.observe().orders == ()
        with trio.fail_after(5):
            await login(ws, cancel_on_disconnect_s=6)
            insert = {**RESTING_BUY, "client_order_id": 11}
            assert code(await call(ws, "private/insert", insert, 1)) is None
        await trio.sleep(1.0)
        first = probe.observe()
        (resting,) = first.orders
        assert (resting.client_order_id, resting.side_sign, resting.remaining_lots) == (11, 1, 10)
        assert [(s.cancel_on_disconnect_s, s.partitioned) for s in first.sessions] == [(6.0, False)]
        assert first.newest_session_id == resting.session_id
        await trio.sleep(1.0)
        assert probe.observe().orders[0].placed_s == resting.placed_s  # unchanged: same time
        with trio.fail_after(5):
            amend = {"client_order_id": 11, "price": 1001, "amount": 0.01}
            assert code(await call(ws, "private/amend", amend, 2)) is None
        await trio.sleep(0.5)
        (amended,) = probe.observe().orders
        assert amended.placed_s > resting.placed_s
        assert amended.price_ticks != resting.price_ticks
