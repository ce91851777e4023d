"""The protocol reader under arbitrary input: frames from the spec's schemas, spoilt in every way a
server or a network can spoil them, plus random bytes, interleaved with good frames and replies.

For every path incoming frames take (the correlator's `receive`, the session's reader task that
runs it, and the fused `decode_market_frame`): no exception escapes but the documented ones,
every bad frame is counted once under its kind, and every good frame around the bad ones still
decodes to exactly what it decodes to on its own (the strict codec's reading of it).
"""

from __future__ import annotations

import collections
import enum
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

import orjson
import pytest
import trio
import trio.testing
from attrs import frozen
from hypothesis import given, settings
from hypothesis import strategies as st
from trio_websocket import WebSocketConnection, wrap_client_stream, wrap_server_stream

from thalex_trio.thalex import to_domain
from thalex_trio.thalex.channels import ChannelRoute
from thalex_trio.thalex.codec import DecodeFailure, ThalexCodec, WireDecodeError
from thalex_trio.thalex.errors import OrderNotFound
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.rpc import RpcCorrelator, RpcFailure, RpcReply
from thalex_trio.thalex.session import open_thalex_session
from thalex_trio.thalex.wire_market import ThalexBookPayload, ThalexTicker
from thalex_trio.thalex.wire_requests import ThalexTickerRequest

from ..thalex.test_spec import PERP
from .schema_frames import (
    KNOWN_PATTERNS,
    Frame,
    bad_frames,
    notification,
    payload_values,
    random_bytes,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

LENIENT = ThalexCodec()
"""The codec the runtime reads with."""
STRICT = ThalexCodec(strict=True)
"""The oracle: the generic converter, refusing anything it does not know."""
INSTRUMENTS = {PERP.name: PERP}


# -- what a server sends -------------------------------------------------------------------------


@frozen
class Note:
    """A notification frame (or what is left of one). A good one must decode as `original`
    does on its own with the strict codec; a bad one must be counted as `bad`."""

    raw: bytes
    bad: DecodeFailure | None
    original: bytes = b""
    label: str = ""


class ReplyKind(enum.Enum):
    """Replies to requests, matched by id."""

    RESULT = "result"
    ERROR = "error"
    UNKNOWN_ID = "unknown_id"
    """A reply to an id never sent: counted."""
    ABANDONED = "abandoned"
    """A late reply to a request the caller gave up on: dropped without counting."""
    NO_RESULT = "no_result"
    """Neither `result` nor `error`: a bad envelope (the request stays pending)."""
    BAD_RESULT = "bad_result"
    """A result that is not the request's result type: counted when decoded."""


@frozen
class Reply:
    """A reply; its frame is built once the request id is known."""

    kind: ReplyKind
    mark_price: float


Step = Note | Reply


@st.composite
def good_frames(draw: st.DrawFn) -> dict[str, object]:
    """A notification of a channel the client knows, valid against the spec."""
    pattern = draw(st.sampled_from(sorted(KNOWN_PATTERNS)))
    return notification(
        pattern, draw(payload_values(pattern)), draw(st.sampled_from([None, True, False]))
    )


@st.composite
def good_notes(draw: st.DrawFn) -> Note:
    """A good notification, sometimes with keys the client does not know (it must ignore them:
    the exchange adds fields without notice)."""
    frame = draw(good_frames())
    original = orjson.dumps(frame)
    if not draw(st.booleans()):
        return Note(original, None, original, "good")
    body = frame["notification"]
    target = body[0] if isinstance(body, list) and body else body
    if isinstance(target, dict):
        target["added_in_a_later_api_version"] = draw(st.sampled_from([1, "x", [1.5], {"a": None}]))
    else:
        frame["added_in_a_later_api_version"] = True
    return Note(orjson.dumps(frame), None, original, "good, extra keys")


@st.composite
def bad_notes(draw: st.DrawFn) -> Note:
    """A spoilt notification, or bytes that never were JSON."""
    if draw(st.integers(0, 5)) == 0:
        return Note(draw(random_bytes), DecodeFailure.NOT_JSON, label="random bytes")
    frame: Frame = draw(bad_frames(draw(good_frames())))
    return Note(frame.raw, frame.bad, label=frame.label)


replies = st.builds(Reply, st.sampled_from(list(ReplyKind)), st.integers(1, 10**6).map(float))

streams = st.lists(st.one_of(good_notes(), bad_notes(), replies), min_size=1, max_size=8)


def expected_note(note: Note) -> ThalexNotification:
    """What a good note decodes to on its own."""
    decoded = STRICT.decode_frame(note.original)
    assert isinstance(decoded, ThalexNotification)
    return decoded


def ticker(mark_price: float) -> ThalexTicker:
    """The ticker a RESULT reply carries."""
    return ThalexTicker(mark_price, 1.0, 1.0, mark_price)


def reply_frame(kind: ReplyKind, request_id: int, mark_price: float) -> bytes:
    """The frame of a reply of `kind` to `request_id`."""
    match kind:
        case ReplyKind.RESULT | ReplyKind.ABANDONED | ReplyKind.UNKNOWN_ID:
            return LENIENT.encode_result(request_id, ticker(mark_price))
        case ReplyKind.ERROR:
            return LENIENT.encode_error(request_id, 1, "order not found")
        case ReplyKind.NO_RESULT:
            return orjson.dumps({"id": request_id})
        case ReplyKind.BAD_RESULT:
            return LENIENT.encode_result(request_id, {"mark_price": "not a number"})


UNKNOWN_ID_BASE = 10**9
"""Ids from here up were never sent."""


# -- the correlator ------------------------------------------------------------------------------


@given(streams)
def test_correlator_counts_every_bad_frame_and_keeps_every_good_one(steps: list[Step]) -> None:
    rpc = RpcCorrelator(LENIENT)
    # Every reply's request is in flight before the stream starts, so replies arrive out of order.
    sent: dict[int, tuple[int, ThalexTickerRequest]] = {}
    for n, step in enumerate(steps):
        if isinstance(step, Reply) and step.kind is not ReplyKind.UNKNOWN_ID:
            request = ThalexTickerRequest(f"I{n}")
            request_id, _ = rpc.send(request)
            sent[n] = (request_id, request)
            if step.kind is ReplyKind.ABANDONED:
                rpc.abandon(request_id)
    expected: collections.Counter[DecodeFailure] = collections.Counter()
    for n, step in enumerate(steps):
        if isinstance(step, Note):
            got = rpc.receive(step.raw)
            if step.bad is None:
                assert got == expected_note(step), step.label
            else:
                assert got is None, step.label
                expected[step.bad] += 1
        else:
            request_id, request = sent.get(n, (UNKNOWN_ID_BASE + n, ThalexTickerRequest("")))
            got = rpc.receive(reply_frame(step.kind, request_id, step.mark_price))
            match step.kind:
                case ReplyKind.RESULT:
                    assert isinstance(got, RpcReply)
                    assert (got.request_id, got.request) == (request_id, request)
                    assert rpc.decode(request, got.raw) == ticker(step.mark_price)
                case ReplyKind.ERROR:
                    assert isinstance(got, RpcFailure)
                    assert isinstance(got.error, OrderNotFound)
                    assert (got.request_id, got.error.request) == (request_id, request)
                case ReplyKind.ABANDONED:
                    assert got is None
                case ReplyKind.UNKNOWN_ID:
                    assert got is None
                    expected[DecodeFailure.UNKNOWN_ID] += 1
                case ReplyKind.NO_RESULT:
                    assert got is None
                    expected[DecodeFailure.BAD_ENVELOPE] += 1
                case ReplyKind.BAD_RESULT:
                    assert isinstance(got, RpcReply)
                    with pytest.raises(WireDecodeError) as bad:
                        rpc.decode(request, got.raw)
                    assert bad.value.kind is DecodeFailure.BAD_PAYLOAD
                    expected[DecodeFailure.BAD_PAYLOAD] += 1
        # Counted at once and exactly once, under its kind.
        assert rpc.skipped == expected, step
    unanswered = sum(isinstance(s, Reply) and s.kind is ReplyKind.NO_RESULT for s in steps)
    assert rpc.pending == unanswered


# -- the fused market path ---------------------------------------------------------------------


def domain_value(note: Note) -> object:
    """What `decode_market_frame` must return for a good note: the domain value of the
    instrument's ticker and book, the wire notification otherwise."""
    decoded = expected_note(note)
    if decoded.channel.subject != PERP.name:
        return decoded
    if isinstance(decoded.payload, ThalexTicker):
        return to_domain.ticker_from_wire(decoded.payload, PERP)
    if isinstance(decoded.payload, ThalexBookPayload):
        return to_domain.book_from_wire(decoded.payload, PERP, snapshot=decoded.snapshot)
    return decoded


@given(st.lists(st.one_of(good_notes(), bad_notes()), min_size=1, max_size=8))
def test_fused_market_decoding_raises_only_counted_kinds(notes: list[Note]) -> None:
    for note in notes:
        if note.bad is None:
            assert LENIENT.decode_market_frame(note.raw, INSTRUMENTS) == domain_value(note)
            continue
        with pytest.raises(WireDecodeError) as bad:
            LENIENT.decode_market_frame(note.raw, INSTRUMENTS)
        assert bad.value.kind is note.bad, note.label


# -- the session's reader task -------------------------------------------------------------------

URL = "ws://fuzz/ws/api/v2"


@asynccontextmanager
async def serve(frames: list[bytes | None]) -> AsyncIterator[WebSocketConnection]:
    """A server that answers the client's first request by sending `frames`, with the reply to
    that request (`REPLY_MARK`) in place of None; yields the client's connection."""
    client_stream, server_stream = trio.testing.memory_stream_pair()

    async def run_server() -> None:
        async with trio.open_nursery() as nursery:
            request = await wrap_server_stream(nursery, server_stream)
            ws = await request.accept()
            first = LENIENT.decode_request(await ws.get_message())
            assert isinstance(first.id, int)
            for maybe in frames:
                frame = (
                    reply_frame(ReplyKind.RESULT, first.id, REPLY_MARK) if maybe is None else maybe
                )
                try:
                    await ws.send_message(frame.decode())
                except UnicodeDecodeError:
                    await ws.send_message(frame)  # not text: a binary message
            await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_server)
        async with trio.open_nursery() as ws_nursery:
            # trio-websocket types the stream as a socket; any trio stream works the same.
            ws = await wrap_client_stream(
                ws_nursery, cast("trio.SocketStream", client_stream), "fuzz", "/ws/api/v2"
            )
            yield ws
            ws_nursery.cancel_scope.cancel()
        nursery.cancel_scope.cancel()


REPLY_MARK = 4242.0
END = orjson.dumps({"channel_name": "system", "notification": {"event": "reconnect"}})
"""The last frame: once it is read, everything before it has been routed."""


# A quarter of the profile's examples: each one is a whole connection (a Trio run, a WebSocket
# handshake); the frame-level properties above get the full count.
@settings(max_examples=max(settings().max_examples // 4, 10))
@given(
    st.lists(st.one_of(good_notes(), bad_notes()), max_size=8),
    st.integers(0, 10),
    st.lists(st.integers(1, 10**6), max_size=2),
)
def test_session_reader_routes_good_frames_and_counts_bad_ones(
    notes: list[Note], reply_at: int, unknown_ids: list[int]
) -> None:
    frames: list[bytes | None] = [note.raw for note in notes]
    frames.insert(min(reply_at, len(frames)), None)  # where the reply to our request goes
    frames += [reply_frame(ReplyKind.RESULT, UNKNOWN_ID_BASE + i, 1.0) for i in unknown_ids]
    frames.append(END)
    expected = collections.Counter(note.bad for note in notes if note.bad is not None)
    expected[DecodeFailure.UNKNOWN_ID] += len(unknown_ids)
    good = [expected_note(note) for note in notes if note.bad is None]
    want_market = [n for n in good if n.channel.kind.route is ChannelRoute.MARKET]
    want_account = [n for n in good if n.channel.kind.route is not ChannelRoute.MARKET]

    async def main() -> None:
        @asynccontextmanager
        async def connect(url: str) -> AsyncIterator[WebSocketConnection]:
            assert url == URL
            async with serve(frames) as ws:
                yield ws

        async with open_thalex_session(
            URL, None, cancel_on_disconnect_s=None, subscribe=(), connect=connect
        ) as session:
            with trio.fail_after(10):
                result = await session.request(ThalexTickerRequest(PERP.name))
                assert result == ticker(REPLY_MARK)
                account = [
                    await session.account_events.receive() for _ in range(len(want_account) + 1)
                ]
            assert account.pop() == STRICT.decode_frame(END)
            market: list[ThalexNotification] = []
            while True:
                try:
                    event = session.market_events.receive_nowait()
                    assert isinstance(event, ThalexNotification)  # no market data converted
                    market.append(event)
                except trio.WouldBlock:
                    break
            assert market == want_market
            assert account == want_account
            assert session.rpc.skipped == expected
            assert session.rpc.pending == 0

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
