"""Every fault kind happens when configured, and the SPEC grammar round-trips."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pytest
import trio
from trio_websocket import ConnectionClosed

from thalex_trio.sim.server.faults import (
    At,
    Burst,
    Chance,
    Delay,
    Every,
    FaultPlan,
    FaultSpecError,
    Rate,
    RejectInsert,
    Restart,
)

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

from .harness import open_test_server, read_until_closed
from .test_protocol import call, code, token

PERP = "BTC-PERPETUAL"
INSERT = {"direction": "buy", "instrument_name": PERP, "amount": 0.01, "price": 1000}


async def login(ws: WebSocketConnection) -> None:
    assert "result" in await call(ws, "public/login", {"token": token()}, 0)


async def test_drop_connection(autojump_clock: trio.testing.MockClock) -> None:
    async with open_test_server(FaultPlan.parse("drop_connection=at:1s")) as server:
        async with server.connect_memory() as ws:
            with trio.fail_after(5), pytest.raises(ConnectionClosed):
                await read_until_closed(ws)
        assert server.injected["drop_connection"] == 1


async def test_delay_holds_replies(autojump_clock: trio.testing.MockClock) -> None:
    plan = FaultPlan(delay=Delay(0.25, 1.0))
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        start = trio.current_time()
        with trio.fail_after(5):
            await login(ws)
        assert trio.current_time() - start >= 0.25
        assert server.injected["delay"] >= 1


async def test_drop_notification_never_drops_replies(
    autojump_clock: trio.testing.MockClock,
) -> None:
    plan = FaultPlan.parse("drop_notification=1")
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            reply = await call(ws, "public/subscribe", {"channels": [f"lwt.{PERP}.raw"]})
        assert reply["result"] == [f"lwt.{PERP}.raw"]
        with trio.move_on_after(2):
            frame = await ws.get_message()
            raise AssertionError(f"a notification got through: {frame!r}")
        assert server.injected["drop_notification"] >= 2


@pytest.mark.parametrize(
    ("spec", "expected"), [("reject_insert=1", 20), ("reject_insert=24@1", 24)]
)
async def test_reject_insert(
    autojump_clock: trio.testing.MockClock, spec: str, expected: int
) -> None:
    async with open_test_server(FaultPlan.parse(spec)) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await login(ws)
            assert code(await call(ws, "private/insert", INSERT)) == expected
        assert server.open_orders() == []


async def test_throttle_by_chance_and_burst(autojump_clock: trio.testing.MockClock) -> None:
    plan = FaultPlan(throttle=Chance(1.0))
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await login(ws)
            assert code(await call(ws, "private/insert", INSERT)) == 4
    plan = FaultPlan(throttle=Burst(2, At(1.0)))
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await login(ws)
            await trio.sleep(1.5)
            results = [code(await call(ws, "private/insert", INSERT, i)) for i in range(3)]
        assert results == [4, 4, None]


async def test_malformed_frames(autojump_clock: trio.testing.MockClock) -> None:
    timed = FaultPlan.parse("malformed=every:1s")
    async with open_test_server(timed) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            frame = await ws.get_message()
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(frame)
    per_message = FaultPlan.parse("malformed=1")
    async with open_test_server(per_message) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await call(ws, "public/subscribe", {"channels": [f"lwt.{PERP}.raw"]})
            frame = await ws.get_message()
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(frame)


async def test_reconnect_notice_then_close(autojump_clock: trio.testing.MockClock) -> None:
    plan = FaultPlan.parse("reconnect_notice=2s@at:1s")
    async with open_test_server(plan) as server, server.connect_memory() as ws:
        with trio.fail_after(5):
            await call(ws, "public/subscribe", {"channels": ["system"]})
            notice = orjson.loads(await ws.get_message())
            noticed_at = trio.current_time()
            assert notice == {"channel_name": "system", "notification": {"event": "reconnect"}}
            with pytest.raises(ConnectionClosed) as info:
                await read_until_closed(ws)
        assert trio.current_time() - noticed_at >= 2.0
        assert info.value.reason is not None
        assert info.value.reason.code == 1012


@pytest.mark.parametrize("persist", [True, False])
async def test_restart_keeps_or_wipes_persistent_orders(
    autojump_clock: trio.testing.MockClock, persist: bool
) -> None:
    plan = FaultPlan(restart=Restart(At(1.0), persist, downtime_s=2.0))
    async with open_test_server(plan) as server:
        async with server.connect_memory() as ws:
            with trio.fail_after(5):
                await login(ws)
                assert "result" in await call(ws, "private/insert", INSERT)
                with pytest.raises(ConnectionClosed):
                    await read_until_closed(ws)
        with pytest.raises(OSError, match="restarting"):
            async with server.connect_memory():
                pass
        await trio.sleep(2.5)
        async with server.connect_memory() as ws:
            with trio.fail_after(5):
                await login(ws)
                reply = await call(ws, "private/open_orders", {})
        # type-ignore reason: raw JSON reply from the server; a wrong shape fails the test
        assert len(reply["result"]) == (1 if persist else 0)  # type: ignore[arg-type]
        assert server.stats()["restarts"] == 1


def test_spec_round_trips_and_composes() -> None:
    spec = (
        "drop_connection=rate:0.01/s,delay=50ms@0.2,drop_notification=0.05,reject_insert=0.02,"
        "throttle=burst:20@every:60s,malformed=0.01,reconnect_notice=at:120s,"
        "restart=persist@at:300s"
    )
    plan = FaultPlan.parse(spec)
    assert str(plan) == spec
    assert FaultPlan.parse(str(plan)) == plan
    assert plan.drop_connection == Rate(0.01)
    assert plan.throttle == Burst(20, Every(60.0))
    assert plan.reject_insert == RejectInsert(0.02)
    combined = FaultPlan(delay=Delay(0.05, 0.2)) | FaultPlan.parse("delay=1s@1,malformed=at:2s")
    assert combined == FaultPlan(delay=Delay(1.0, 1.0), malformed=At(2.0))
    assert FaultPlan.parse(" ") == FaultPlan()
    assert FaultPlan.parse("restart=wipe+2.5s@every:10m").restart == Restart(Every(600), False, 2.5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode=1", "unknown fault kind"),
        ("delay=50@0.2", "not a duration"),
        ("delay=50ms@2", "not a probability"),
        ("drop_connection=0.5", "not a time trigger"),
        ("drop_connection=rate:-1/s", "positive rate"),
        ("throttle=burst:0@at:1s", "positive message count"),
        ("restart=maybe@at:1s", "expected persist or wipe"),
        ("delay", "expected KIND=VALUE"),
        ("malformed=0.1,malformed=0.2", "given twice"),
    ],
)
def test_bad_specs_are_refused_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        FaultPlan.parse(spec)
