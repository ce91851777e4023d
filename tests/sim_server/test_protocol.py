"""Login, sessions, cancel-on-disconnect and rate limits over raw frames."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jwt
import orjson
import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from thalex_trio.domain.enums import DeleteReason, Side
from thalex_trio.thalex.errors import PriceCollarBreach, ThalexRpcError
from thalex_trio.thalex.wire_orders import ThalexOrdersPayload, ThalexOrderStatus
from thalex_trio.thalex.wire_requests import (
    ThalexCancelAllRequest,
    ThalexCancelSessionRequest,
    ThalexInsertRequest,
    ThalexInstrumentRequest,
    ThalexTickerRequest,
)

from ..thalex.keys import rsa_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from trio_websocket import WebSocketConnection

    from thalex_trio.thalex.session import ThalexSession

from .harness import KEY_ID, open_client, open_test_server, wall_clock

PERP = "BTC-PERPETUAL"


def token(
    *,
    kid: str = KEY_ID,
    alg: str = "RS512",
    iat_offset_s: float = 0.0,
    key: rsa.RSAPrivateKey | None = None,
) -> str:
    return jwt.encode(
        {"iat": wall_clock() + iat_offset_s}, key or rsa_key(), algorithm=alg, headers={"kid": kid}
    )


async def call(
    ws: WebSocketConnection, method: str, params: Mapping[str, object], rpc_id: int = 1
) -> dict[str, object]:
    await ws.send_message(orjson.dumps({"method": method, "params": params, "id": rpc_id}).decode())
    while True:
        reply = orjson.loads(await ws.get_message())
        if reply.get("id") == rpc_id:
            # type-ignore reason: raw JSON reply from the server; a wrong shape fails the test
            return reply  # type: ignore[no-any-return]


def code(reply: dict[str, object]) -> int | None:
    error = reply.get("error")
    return error["code"] if isinstance(error, dict) else None


async def test_jwt_checks(autojump_clock: trio.testing.MockClock) -> None:
    async with open_test_server() as server, server.connect_memory() as ws:
        with trio.fail_after(10):
            assert code(await call(ws, "private/open_orders", {})) == 7
            for alg in ("RS256", "RS384", "RS512"):
                await trio.sleep(0.01)
                reply = await call(ws, "public/login", {"token": token(alg=alg)})
                assert reply["result"] == {"account_number": "A000000001"}, alg
            assert code(await call(ws, "public/login", {"token": token(kid="K999")})) == 19
            assert code(await call(ws, "public/login", {"token": token(iat_offset_s=-31)})) == 19
            assert code(await call(ws, "public/login", {"token": token(iat_offset_s=31)})) == 19
            stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            assert code(await call(ws, "public/login", {"token": token(key=stranger)})) == 19
            assert code(await call(ws, "public/login", {"token": "not.a.jwt"})) == 19
            await trio.sleep(0.01)
            same = token()
            assert "result" in await call(ws, "public/login", {"token": same})
            assert code(await call(ws, "public/login", {"token": same})) == 19  # replayed iat
            await trio.sleep(0.01)
            bad_account = {"token": token(), "account": "A999"}
            assert code(await call(ws, "public/login", bad_account)) == 6
            assert code(await call(ws, "public/nonsense", {})) == 31
            assert "result" in await call(ws, "private/open_orders", {})


async def test_cancel_on_disconnect_by_close_keeps_persistent_orders(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server:
        with trio.fail_after(30):
            async with open_client(server, cancel_on_disconnect_s=None) as persistent:
                await persistent.request(_far_buy(1))
            async with open_client(server, ["account.orders"]) as watcher:
                async with open_client(server) as volatile:
                    await volatile.request(_far_buy(2))
                    assert len(server.open_orders()) == 2
                note = await _next_deleted(watcher)
                assert note.delete_reason is DeleteReason.SESSION_END
                assert note.client_order_id == 2
        assert [r.client_order_id for r in server.open_orders()] == [1]


async def test_cancel_on_disconnect_by_silence(autojump_clock: trio.testing.MockClock) -> None:
    async with open_test_server() as server, server.connect_memory() as ws:
        with trio.fail_after(30):
            await call(ws, "public/login", {"token": token()})
            await call(ws, "private/set_cancel_on_disconnect", {"timeout_secs": 2}, 2)
            params = {"direction": "buy", "instrument_name": PERP, "amount": 0.01, "price": 1000}
            reply = await call(ws, "private/insert", params, 3)
            # type-ignore reason: raw JSON reply from the server; a wrong shape fails the test
            assert reply["result"]["persistent"] is False  # type: ignore[index]
            assert len(server.open_orders()) == 1
            await trio.sleep(1.5)
            assert len(server.open_orders()) == 1  # not silent long enough yet
            await trio.sleep(1.0)
        assert server.open_orders() == []
        assert server.stats()["connections"] == 0


async def test_cancel_session_and_cancel_all(autojump_clock: trio.testing.MockClock) -> None:
    async with open_test_server() as server:
        with trio.fail_after(30):
            async with open_client(server, cancel_on_disconnect_s=None) as persistent:
                await persistent.request(_far_buy(1))
                with pytest.raises(ThalexRpcError) as info:
                    await persistent.request(ThalexCancelSessionRequest())
                assert info.value.code == 52
                async with open_client(server) as volatile:
                    await volatile.request(_far_buy(2))
                    await volatile.request(_far_buy(3))
                    await volatile.request(ThalexCancelSessionRequest())
                    assert [r.client_order_id for r in server.open_orders()] == [1]
                    await volatile.request(_far_buy(4))
                    assert await volatile.request(ThalexCancelAllRequest()) == 2
        assert server.open_orders() == []


async def test_rate_limit_gives_code_4_then_a_penalty(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server, server.connect_memory() as ws:
        with trio.fail_after(30):
            await call(ws, "public/login", {"token": token()})
            params = {"direction": "buy", "instrument_name": PERP, "amount": 0.01, "price": 1000}
            frames = [
                orjson.dumps({"method": "private/insert", "params": params, "id": 10 + i}).decode()
                for i in range(11)
            ]
            for frame in frames:
                await ws.send_message(frame)
            replies: dict[int, int | None] = {}
            while len(replies) < 11:
                reply = orjson.loads(await ws.get_message())
                if "id" in reply:
                    replies[reply["id"]] = code(reply)
            assert [replies[10 + i] for i in range(11)] == [None] * 10 + [4]
            assert code(await call(ws, "public/ticker", {"instrument_name": PERP}, 50)) == 4
            await trio.sleep(1.1)
            assert code(await call(ws, "public/ticker", {"instrument_name": PERP}, 51)) is None
            cancels = [
                orjson.dumps({"method": "private/cancel_all", "params": {}, "id": 100 + i}).decode()
                for i in range(200)
            ]
            for frame in cancels:
                await ws.send_message(frame)
            seen = 0
            while seen < 200:
                reply = orjson.loads(await ws.get_message())
                if "id" in reply and reply["id"] >= 100:
                    assert code(reply) is None
                    seen += 1


async def test_price_collar_on_the_ticker_and_on_insert(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server:
        with trio.fail_after(30):
            async with open_client(server) as client:
                tick = (await client.request(ThalexInstrumentRequest(PERP))).tick_size
                assert tick is not None
                ticker = await client.request(ThalexTickerRequest(PERP))
                assert ticker.collar_low is not None
                assert ticker.collar_high is not None
                # 5% either side of the mark, on the tick grid, inside the band.
                assert 0 <= ticker.mark_price * 1.05 - ticker.collar_high < tick
                assert 0 <= ticker.collar_low - ticker.mark_price * 0.95 < tick
                beyond = ThalexInsertRequest(
                    Side.BUY, PERP, 0.01, ticker.collar_high + 10 * tick, client_order_id=1
                )
                with pytest.raises(PriceCollarBreach) as info:
                    await client.request(beyond)
                assert info.value.code == 43
                assert info.value.request == beyond
        assert server.open_orders() == []


def _far_buy(client_order_id: int) -> ThalexInsertRequest:
    return ThalexInsertRequest(Side.BUY, PERP, 0.01, 1000.0, client_order_id=client_order_id)


async def _next_deleted(session: ThalexSession) -> ThalexOrderStatus:
    async for note in session.account_events:
        if isinstance(note.payload, ThalexOrdersPayload) and not note.snapshot:
            order = note.payload.items[0]
            if order.delete_reason is not None:
                return order
    raise AssertionError("closed")
