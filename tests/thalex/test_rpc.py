"""The sans-IO correlator: ids, out-of-order replies, typed errors, counted bad input."""

from __future__ import annotations

import logging

import orjson
import pytest

from thalex_trio.thalex.codec import DecodeFailure, ThalexCodec
from thalex_trio.thalex.errors import (
    ERRORS_BY_CODE,
    AuthenticationFailed,
    InvalidAmount,
    InvalidPrice,
    NotLoggedIn,
    OrderNotFound,
    PriceNotOnTick,
    ThalexRpcError,
    Throttled,
    UnknownInstrument,
)
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.rpc import RpcCorrelator, RpcFailure, RpcReply
from thalex_trio.thalex.wire_market import ThalexIndex
from thalex_trio.thalex.wire_requests import (
    ThalexCancelRequest,
    ThalexIndexRequest,
    ThalexTickerRequest,
)


def test_ids_increase_and_replies_match_out_of_order() -> None:
    rpc = RpcCorrelator(ThalexCodec())
    first = ThalexIndexRequest("BTCUSD")
    second = ThalexIndexRequest("ETHUSD")
    id1, frame1 = rpc.send(first)
    id2, _ = rpc.send(second)
    assert id2 == id1 + 1
    assert orjson.loads(frame1)["id"] == id1
    reply2 = rpc.receive(
        orjson.dumps({"id": id2, "result": {"index_name": "ETHUSD", "price": 2, "timestamp": 1}})
    )
    reply1 = rpc.receive(
        orjson.dumps({"id": id1, "result": {"index_name": "BTCUSD", "price": 1, "timestamp": 1}})
    )
    assert isinstance(reply1, RpcReply)
    assert reply1.request == first
    assert isinstance(reply2, RpcReply)
    assert reply2.request == second
    assert rpc.decode(second, reply2.raw) == ThalexIndex("ETHUSD", 2, 1)
    assert rpc.pending == 0


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (1, OrderNotFound),
        (4, Throttled),
        (5, UnknownInstrument),
        (7, NotLoggedIn),
        (13, InvalidPrice),
        (14, InvalidAmount),
        (15, PriceNotOnTick),
        (19, AuthenticationFailed),
        (99, ThalexRpcError),
    ],
)
def test_error_replies_become_typed_exceptions_with_their_request(
    code: int, error_type: type[ThalexRpcError]
) -> None:
    rpc = RpcCorrelator(ThalexCodec())
    request = ThalexCancelRequest(client_order_id=9)
    request_id, _ = rpc.send(request)
    failure = rpc.receive(orjson.dumps({"id": request_id, "error": {"code": code, "message": "m"}}))
    assert isinstance(failure, RpcFailure)
    assert type(failure.error) is error_type
    assert failure.error.request == request
    assert failure.error.request_id == request_id
    assert failure.error.code == code
    assert "private/cancel" in str(failure.error)


def test_error_table_covers_the_required_codes() -> None:
    assert {1, 4, 5, 7, 13, 14, 15, 19} <= set(ERRORS_BY_CODE)


def test_bad_input_is_counted_logged_once_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    rpc = RpcCorrelator(ThalexCodec())
    frames = [
        b"garbage-1",
        b"garbage-2",
        b'{"channel_name": "trades.BTC-PERPETUAL", "notification": []}',
        b'{"channel_name": "price_index.BTCUSD", "notification": {"price": "1"}}',
        b'{"id": 999, "result": 1}',
        b'{"id": null, "result": 1}',
    ]
    with caplog.at_level(logging.DEBUG, logger="thalex_trio.thalex.rpc"):
        results = [rpc.receive(frame) for frame in frames]
    assert results == [None] * len(frames)
    assert rpc.skipped == {
        DecodeFailure.NOT_JSON: 2,
        DecodeFailure.UNKNOWN_CHANNEL: 1,
        DecodeFailure.BAD_PAYLOAD: 1,
        DecodeFailure.UNKNOWN_ID: 2,
    }
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4  # one per kind, however many frames of that kind
    assert any("garbage-1" in r.getMessage() for r in warnings)
    assert not any("garbage-2" in r.getMessage() for r in warnings)
    # The reader carries on: a good frame after the bad ones still decodes.
    good = rpc.receive(b'{"channel_name": "system", "notification": {"event": "reconnect"}}')
    assert isinstance(good, ThalexNotification)


def test_abandoned_request_reply_is_dropped_quietly() -> None:
    rpc = RpcCorrelator(ThalexCodec())
    request_id, _ = rpc.send(ThalexTickerRequest("X"))
    rpc.abandon(request_id)
    assert rpc.receive(orjson.dumps({"id": request_id, "result": {}})) is None
    assert not rpc.skipped


def test_reply_that_does_not_decode_is_counted() -> None:
    rpc = RpcCorrelator(ThalexCodec())
    request = ThalexTickerRequest("X")
    request_id, _ = rpc.send(request)
    reply = rpc.receive(orjson.dumps({"id": request_id, "result": {"mark_price": "x"}}))
    assert isinstance(reply, RpcReply)
    with pytest.raises(ValueError, match="public/ticker"):
        rpc.decode(request, reply.raw)
    assert rpc.skipped[DecodeFailure.BAD_PAYLOAD] == 1
