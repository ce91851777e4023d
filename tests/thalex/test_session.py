"""The session shell against an in-test server over memory streams, in virtual time."""

from __future__ import annotations

import logging

import pytest
import trio
import trio.testing

from thalex_trio.domain.enums import Side
from thalex_trio.thalex.channels import ticker_channel
from thalex_trio.thalex.codec import DecodeFailure
from thalex_trio.thalex.credentials import Credentials, Secret
from thalex_trio.thalex.errors import AuthenticationFailed, OrderNotFound, SessionClosed, Throttled
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.ratelimit import THROTTLE_BACKOFF_INITIAL_S
from thalex_trio.thalex.session import ThalexSession, open_thalex_session
from thalex_trio.thalex.wire_market import ThalexSystemEvent, ThalexTicker
from thalex_trio.thalex.wire_requests import (
    ThalexCancelRequest,
    ThalexInsertRequest,
    ThalexTickerRequest,
)

from .fake_exchange import FakeThalex, loopback
from .keys import private_pem

URL = "ws://fake/ws/api/v2"
WALL_CLOCK_S = 1_700_000_000.5


def leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out += leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return out


def credentials() -> Credentials:
    return Credentials("K1", Secret(private_pem()), account="A123")


async def exercise(session: ThalexSession, server: FakeThalex) -> None:
    assert session.account_number == "A123"
    assert session.limiter.engine_rate() == 50  # cancel-on-disconnect granted 50/s
    assert await session.subscribe([ticker_channel("BTC-PERPETUAL"), "bogus.channel"]) == [
        "ticker.BTC-PERPETUAL.100ms"
    ]
    assert session.subscriptions == {"system", "ticker.BTC-PERPETUAL.100ms"}

    # Three pipelined requests, answered in reverse order with junk in between.
    results: dict[str, ThalexTicker] = {}

    async def ask(name: str) -> None:
        results[name] = await session.request(ThalexTickerRequest(name))

    async with trio.open_nursery() as nursery:
        for name in ("A", "BB", "CCC"):
            nursery.start_soon(ask, name)
    assert {name: t.mark_price for name, t in results.items()} == {"A": 1, "BB": 2, "CCC": 3}
    note = session.market_events.receive_nowait()
    assert isinstance(note, ThalexNotification)
    assert isinstance(note.payload, ThalexTicker)
    assert note.payload.mark_price == 9
    assert session.rpc.skipped == {
        DecodeFailure.NOT_JSON: 1,
        DecodeFailure.UNKNOWN_CHANNEL: 1,
        DecodeFailure.UNKNOWN_ID: 1,
    }

    cancel = ThalexCancelRequest(client_order_id=5)
    with pytest.raises(OrderNotFound) as not_found:
        await session.request(cancel)
    assert not_found.value.request == cancel

    insert = ThalexInsertRequest(Side.BUY, "BTC-PERPETUAL", 0.1, price=100)
    with pytest.raises(Throttled):
        await session.request(insert)
    with pytest.raises(Throttled):
        await session.request(insert)
    # The limiter held the second insert back for the backoff instead of retrying at once.
    first, second = server.insert_times
    assert second - first >= THROTTLE_BACKOFF_INITIAL_S
    # Cancels do not wait behind the paused insert lane.
    before = trio.current_time()
    with pytest.raises(OrderNotFound):
        await session.request(cancel)
    assert trio.current_time() - before < THROTTLE_BACKOFF_INITIAL_S

    assert server.ws is not None
    await server.send(b'{"channel_name":"system","notification":{"event":"reconnect"}}')
    with trio.fail_after(1):
        await session.wait_reconnect_requested()
    notice = await session.account_events.receive()
    assert isinstance(notice.payload, ThalexSystemEvent)
    assert session.reconnect_requested


async def test_session_end_to_end(autojump_clock: trio.testing.MockClock) -> None:
    server = FakeThalex()
    with pytest.RaisesGroup(SessionClosed, flatten_subgroups=True):
        async with (
            loopback(server) as connect,
            open_thalex_session(
                URL, credentials(), connect=connect, wall_clock=lambda: WALL_CLOCK_S, strict=True
            ) as session,
        ):
            await exercise(session, server)
            # Heartbeats keep a quiet connection open well past the 6 s server timeout.
            await trio.sleep(30)
            assert server.ws is not None
            await server.ws.aclose()  # the server closes: the session block ends
            await trio.sleep_forever()
    assert server.methods[:4] == [
        "public/login",
        "private/set_cancel_on_disconnect",
        "public/subscribe",
        "public/subscribe",
    ]


async def test_leaving_the_block_closes_the_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeThalex()
    async with loopback(server) as connect:
        async with open_thalex_session(URL, None, connect=connect, subscribe=()) as session:
            assert session.account_number is None
        with trio.fail_after(5):
            await server.done.wait()
    assert server.methods == []


async def test_no_log_or_error_text_contains_the_key_or_the_jwt(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    server = FakeThalex(reject_login=True)
    caplog.set_level(logging.DEBUG)
    with pytest.RaisesGroup(AuthenticationFailed, flatten_subgroups=True) as caught:
        async with (
            loopback(server) as connect,
            open_thalex_session(
                URL, credentials(), connect=connect, wall_clock=lambda: WALL_CLOCK_S
            ),
        ):
            pytest.fail("login should have failed")
    (token,) = server.tokens
    pem = private_pem().decode()
    key_body = "".join(pem.splitlines()[1:-1])
    texts = [record.getMessage() for record in caplog.records]
    match, _ = caught.value.split(AuthenticationFailed)
    assert match is not None
    (failure,) = leaves(match)
    assert isinstance(failure, AuthenticationFailed)
    texts += [str(failure), repr(failure), str(caught.value)]
    texts += [repr(failure.request), str(failure.message)]
    assert token not in "\n".join(texts)
    for line in pem.splitlines()[1:-1]:
        assert line not in "\n".join(texts)
    assert key_body[:64] not in "\n".join(texts)
    assert "<redacted>" in str(failure)
