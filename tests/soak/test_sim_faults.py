"""The simulator's fault kinds added for the soak: each happens when configured, on virtual
time, against a raw WebSocket client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
import trio
from trio_websocket import ConnectionClosed

from thalex_trio.sim.engine.params import EngineParams, Latency
from thalex_trio.sim.server.connection import REORDER_HOLD_S
from thalex_trio.sim.server.faults import (
    At,
    Chance,
    FaultPlan,
    FaultSpecError,
    ScopedChance,
)
from thalex_trio.sim.server.faults import Latency as LinkLatency

from ..sim_server.harness import open_test_server, read_until_closed
from ..sim_server.test_protocol import call, code, token

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

PERP = "BTC-PERPETUAL"
RESTING_BUY = {"direction": "buy", "instrument_name": PERP, "amount": 0.01, "price": 1000}
"""A buy far below the market: it rests."""
CROSSING_BUY = {
    "direction": "buy",
    "instrument_name": PERP,
    "amount": 0.001,
    "price": 1_000_000,
    "collar": "ignore",
}
"""A buy far above the market, past the price collar (which it ignores): it fills at once."""


async def frames_until_closed(ws: WebSocketConnection) -> list[dict[str, object]]:
    """Every frame until the server closes the connection (which it must)."""
    await trio.lowlevel.checkpoint()
    frames: list[dict[str, object]] = []
    try:
        while True:
            frames.append(orjson.loads(await ws.get_message()))
    except ConnectionClosed:
        return frames


async def login(ws: WebSocketConnection, *, cancel_on_disconnect_s: int | None = None) -> None:
    assert "result" in await call(ws, "public/login", {"token": token()}, 0)
    if cancel_on_disconnect_s is not None:
        reply = await call(
            ws, "private/set_cancel_on_disconnect", {"timeout_secs": cancel_on_disconnect_s}, 0
        )
        assert "result" in reply


def test_new_kinds_round_trip_through_the_grammar() -> None:
    spec = (
        "drop_notification=private:0.1,drop_mid_fill=1,drop_mid_request=0.3,reorder=0.25,"
        "blackhole=at:40s,latency=250ms"
    )
    plan = FaultPlan.parse(spec)
    assert str(plan) == spec
    assert plan.drop_notification == ScopedChance("private", 0.1)
    assert plan.drop_mid_fill == Chance(1.0)
    assert plan.blackhole == At(40.0)
    assert plan.latency == LinkLatency(0.25)
    assert FaultPlan.parse("drop_notification=0.05").drop_notification == Chance(0.05)
    with pytest.raises(FaultSpecError, match="expected market or private"):
        FaultPlan.parse("drop_notification=public:0.1")


async def test_drop_mid_request_applies_the_request_and_never_answers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server(FaultPlan(drop_mid_request=Chance(1.0))) as server:
        async with server.connect_memory() as ws:
            with trio.fail_after(5):
                await login(ws)
                await ws.send_message(
                    orjson.dumps(
                        {"method": "private/insert", "params": RESTING_BUY, "id": 7}
                    ).decode()
                )
                frames = await frames_until_closed(ws)
        assert all(f.get("id") != 7 for f in frames), "the insert was answered"
        assert server.injected["drop_mid_request"] == 1
        # No cancel-on-disconnect: the order outlives its session, so it shows it took effect.
        assert len(server.open_orders()) == 1


async def test_drop_mid_fill_loses_the_fill_report_with_the_socket(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server(FaultPlan(drop_mid_fill=Chance(1.0))) as server:
        server.core.fill_log = []
        async with server.connect_memory() as ws:
            with trio.fail_after(5):
                await login(ws)
                await call(ws, "private/subscribe", {"channels": ["session.orders"]}, 1)
                await ws.send_message(
                    orjson.dumps(
                        {"method": "private/insert", "params": CROSSING_BUY, "id": 8}
                    ).decode()
                )
                frames = await frames_until_closed(ws)
        assert server.injected["drop_mid_fill"] == 1
        assert len(server.core.fill_log) == 1
        assert all(f.get("id") != 8 for f in frames), "the fill's insert was answered"
        assert all(f.get("channel_name") != "session.orders" for f in frames[1:])
        assert server.position().size_lots == 1


async def test_reorder_lets_the_next_frame_overtake_a_reply(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server(FaultPlan(reorder=Chance(1.0))) as server:
        async with server.connect_memory() as ws:
            with trio.fail_after(5):
                for rpc_id in (1, 2):
                    request: dict[str, object] = {
                        "method": "public/system_info",
                        "params": {},
                        "id": rpc_id,
                    }
                    await ws.send_message(orjson.dumps(request).decode())
                first = orjson.loads(await ws.get_message())
                second = orjson.loads(await ws.get_message())
        assert [first["id"], second["id"]] == [2, 1]
        assert server.injected["reorder"] >= 1


async def test_latency_delivers_every_frame_late_and_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    plan = FaultPlan(latency=LinkLatency(0.5))
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        start = trio.current_time()
        with trio.fail_after(5):
            for rpc_id in (1, 2, 3):
                request: dict[str, object] = {"method": "public/time", "id": rpc_id}
                await ws.send_message(orjson.dumps(request).decode())
            ids = [orjson.loads(await ws.get_message())["id"] for _ in range(3)]
        assert ids == [1, 2, 3]
        assert trio.current_time() - start >= 0.5
        # Pipelined, not one after another: all three within a little more than 0.5 s.
        assert trio.current_time() - start < 1.0


async def test_a_held_reply_goes_out_alone_after_the_hold(
    autojump_clock: trio.testing.MockClock,
) -> None:
    plan = FaultPlan(reorder=Chance(1.0))
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        start = trio.current_time()
        with trio.fail_after(5):
            reply = await call(ws, "public/system_info", {}, 3)
        assert "result" in reply
        assert trio.current_time() - start >= REORDER_HOLD_S


async def test_blackhole_silences_both_ways_until_cancel_on_disconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await login(ws, cancel_on_disconnect_s=2)
            assert code(await call(ws, "private/insert", RESTING_BUY, 4)) is None
        server.blackhole_connections()
        await ws.send_message(orjson.dumps({"method": "public/time", "id": 5}).decode())
        with trio.move_on_after(1.0) as quiet:
            await ws.get_message()
        assert quiet.cancelled_caught, "a frame crossed the partition"
        assert len(server.open_orders()) == 1
        assert [c.partitioned for c in server.connections] == [True]
        with trio.fail_after(5), pytest.raises(ConnectionClosed):
            await read_until_closed(ws)
        assert server.open_orders() == []
        assert server.connections == set()


@pytest.mark.parametrize(("scope", "lwt_arrives"), [("market", False), ("private", True)])
async def test_drop_notification_can_be_limited_to_one_class_of_channels(
    autojump_clock: trio.testing.MockClock, scope: str, lwt_arrives: bool
) -> None:
    plan = FaultPlan(drop_notification=ScopedChance(scope, 1.0))
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await call(ws, "public/subscribe", {"channels": [f"lwt.{PERP}.raw"]}, 1)
        arrived = False
        with trio.move_on_after(2.0):
            await ws.get_message()
            arrived = True
        assert arrived is lwt_arrives
        assert (server.injected.get("drop_notification", 0) > 0) is not lwt_arrives


async def test_in_flight_lists_a_request_until_the_engine_answers_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    slow = EngineParams(entry_latency=Latency(median_ns=200_000_000))
    async with open_test_server(engine=slow) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await login(ws)
            await ws.send_message(
                orjson.dumps({"method": "private/insert", "params": RESTING_BUY, "id": 9}).decode()
            )
            await trio.sleep(0.05)
            assert [type(r).__name__ for _, r in server.core.in_flight()] == ["InsertOrder"]
            while orjson.loads(await ws.get_message()).get("id") != 9:
                pass
        assert server.core.in_flight() == []
