"""A small scripted Thalex server for session tests, over a trio memory stream pair.

It decodes requests with the same codec (strict), checks the login JWT against the test key,
and answers what the tests need. Ticker requests are held until three are pending and then
answered in reverse order, with notifications and bad frames interleaved.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

import jwt
import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    wrap_client_stream,
    wrap_server_stream,
)

from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.wire_account import ThalexCancelOnDisconnectResult, ThalexLoginResult
from thalex_trio.thalex.wire_market import ThalexTicker
from thalex_trio.thalex.wire_requests import (
    ThalexCancelRequest,
    ThalexInsertRequest,
    ThalexLoginRequest,
    ThalexPrivateSubscribeRequest,
    ThalexPublicSubscribeRequest,
    ThalexSetCancelOnDisconnectRequest,
    ThalexTickerRequest,
)

from .keys import rsa_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from contextlib import AbstractAsyncContextManager

    from thalex_trio.thalex.frames import RequestId

    Connector = Callable[[str], AbstractAsyncContextManager[WebSocketConnection]]


class FakeThalex:
    """Server state the tests look at afterwards."""

    def __init__(self, *, reject_login: bool = False) -> None:
        self.codec = ThalexCodec(strict=True)
        self.reject_login = reject_login
        self.tokens: list[str] = []
        self.methods: list[str] = []
        self.insert_times: list[float] = []
        self.held_tickers: list[tuple[RequestId, ThalexTickerRequest]] = []
        self.ws: WebSocketConnection | None = None
        self.connected = trio.Event()
        self.done = trio.Event()

    async def send(self, frame: bytes) -> None:
        await trio.lowlevel.checkpoint()
        assert self.ws is not None
        await self.ws.send_message(frame.decode())

    async def serve(self, ws: WebSocketConnection) -> None:
        await trio.lowlevel.checkpoint()
        self.ws = ws
        self.connected.set()
        try:
            while True:
                frame = self.codec.decode_request(await ws.get_message())
                self.methods.append(frame.request.method)
                await self.answer(frame.id, frame.request)
        except ConnectionClosed:
            pass
        finally:
            self.done.set()

    async def answer(self, request_id: RequestId, request: object) -> None:
        await trio.lowlevel.checkpoint()
        codec = self.codec
        match request:
            case ThalexLoginRequest():
                self.tokens.append(request.token)
                if self.reject_login:
                    message = f"bad token {request.token}"  # a careless server echoing it
                    await self.send(codec.encode_error(request_id, 19, message))
                    return
                claims = jwt.decode(request.token, rsa_key().public_key(), algorithms=["RS512"])
                assert jwt.get_unverified_header(request.token)["kid"] == "K1"
                assert isinstance(claims["iat"], float)
                result = ThalexLoginResult(request.account or "A0")
                await self.send(codec.encode_result(request_id, result))
            case ThalexSetCancelOnDisconnectRequest():
                result_cod = ThalexCancelOnDisconnectResult(50)
                await self.send(codec.encode_result(request_id, result_cod))
            case ThalexPublicSubscribeRequest() | ThalexPrivateSubscribeRequest():
                taken = [c for c in request.channels if not c.startswith("bogus")]
                await self.send(codec.encode_result(request_id, taken))
            case ThalexTickerRequest():
                self.held_tickers.append((request_id, request))
                if len(self.held_tickers) == 3:
                    await self.release_tickers()
            case ThalexCancelRequest():
                await self.send(codec.encode_error(request_id, 1, "order not found"))
            case ThalexInsertRequest():
                self.insert_times.append(trio.current_time())
                await self.send(codec.encode_error(request_id, 4, "throttled"))
            case _:
                await self.send(codec.encode_error(request_id, 31, "unknown method"))

    async def release_tickers(self) -> None:
        await trio.lowlevel.checkpoint()
        codec = self.codec
        for n, (request_id, request) in enumerate(reversed(self.held_tickers)):
            mark = float(len(request.instrument_name))
            await self.send(codec.encode_result(request_id, ThalexTicker(mark, 1.0, 1.0, 2.0)))
            if n == 0:
                await self.send(
                    codec.encode_notification(
                        "ticker.BTC-PERPETUAL.100ms", ThalexTicker(9.0, 1.0, 1.0, 2.0)
                    )
                )
                await self.send(b"{not json")
                await self.send(b'{"channel_name": "trades.BTC-PERPETUAL", "notification": []}')
                await self.send(b'{"id": 999999, "result": 1}')
        self.held_tickers.clear()


@asynccontextmanager
async def loopback(server: FakeThalex) -> AsyncIterator[Connector]:
    """Run `server` on one end of a memory stream pair; yields a connector for the client."""
    client_stream, server_stream = trio.testing.memory_stream_pair()

    async def run_server() -> None:
        async with trio.open_nursery() as nursery:
            request = await wrap_server_stream(nursery, server_stream)
            await server.serve(await request.accept())
            nursery.cancel_scope.cancel()

    @asynccontextmanager
    async def connect(url: str) -> AsyncIterator[WebSocketConnection]:
        assert url == "ws://fake/ws/api/v2"
        async with trio.open_nursery() as nursery:
            # trio-websocket only types real sockets here; a memory stream works the same.
            stream = cast("trio.SocketStream", client_stream)
            ws = await wrap_client_stream(nursery, stream, "fake", "/ws/api/v2")
            try:
                yield ws
            finally:
                with trio.move_on_after(1) as scope:
                    scope.shield = True
                    await ws.aclose()
                nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_server)
        yield connect
        nursery.cancel_scope.cancel()
