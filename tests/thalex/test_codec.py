"""The codec both ways, strictness, and bad input turned into typed, bounded errors."""

from __future__ import annotations

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.domain.enums import Side
from thalex_trio.thalex import codec_hot
from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.codec import DecodeFailure, ThalexCodec, WireDecodeError
from thalex_trio.thalex.frames import ThalexErrorFrame, ThalexNotification, ThalexResultFrame
from thalex_trio.thalex.wire_market import ThalexBookLevel, ThalexLwt, ThalexTicker
from thalex_trio.thalex.wire_requests import (
    ThalexDoubleSidedQuote,
    ThalexInsertRequest,
    ThalexMassQuoteRequest,
    ThalexQuoteLevel,
)

STRICT = ThalexCodec(strict=True)

TICKER_BODY: dict[str, object] = {"mark_price": 1.5, "mark_timestamp": 2.0, "delta": 1, "index": 3}
TICKER: dict[str, object] = {
    "channel_name": "ticker.BTC-PERPETUAL.100ms",
    "notification": TICKER_BODY,
}


def test_server_frames_put_id_or_channel_first_and_snapshot_only_when_true() -> None:
    codec = ThalexCodec()
    assert codec.encode_result(7, None).startswith(b'{"id":7,')
    assert codec.encode_error(None, 4, "throttled") == (
        b'{"id":null,"error":{"code":4,"message":"throttled"}}'
    )
    ticker = ThalexTicker(1.5, 2.0, 1.0, 3.0)
    plain = codec.encode_notification("ticker.X.raw", ticker)
    assert plain.startswith(b'{"channel_name":"ticker.X.raw",')
    assert b"snapshot" not in plain
    assert codec.encode_notification("ticker.X.raw", ticker, snapshot=True).endswith(
        b',"snapshot":true}'
    )
    # Empty best prices are written as null, as the exchange does; absent options are left out.
    body = orjson.loads(plain)["notification"]
    assert body["best_bid_price"] is None
    assert "iv" not in body


def test_renames_live_in_the_converter() -> None:
    codec = ThalexCodec(strict=True)
    lwt = ThalexLwt(10.5, best_bid=ThalexBookLevel(10, 1, 1), last_price=11)
    raw = codec.unstructure(lwt)
    assert raw == {"m": 10.5, "b": [10, 1, 1], "l": 11}
    assert codec.structure(raw, ThalexLwt) == lwt
    ladder = ThalexMassQuoteRequest(
        (
            ThalexDoubleSidedQuote(
                "X", bid=(ThalexQuoteLevel(1, 2), ThalexQuoteLevel(0.5, 1)), ask=()
            ),
        )
    )
    raw = codec.unstructure(ladder)
    assert raw == {"quotes": [{"i": "X", "b": [[1, 2], [0.5, 1]], "a": []}]}
    assert codec.structure(raw, ThalexMassQuoteRequest) == ladder


@given(
    amount=st.floats(min_value=1e-8, max_value=1e6, allow_nan=False),
    price=st.none() | st.floats(min_value=1e-8, max_value=1e7, allow_nan=False),
    client_order_id=st.none() | st.integers(min_value=0, max_value=2**32 - 1),
    label=st.none() | st.text(alphabet="abcXYZ019<>|_-", max_size=32),
    post_only=st.none() | st.booleans(),
    side=st.sampled_from(Side),
)
def test_insert_round_trips(
    amount: float,
    price: float | None,
    client_order_id: int | None,
    label: str | None,
    post_only: bool | None,
    side: Side,
) -> None:
    codec = STRICT
    request = ThalexInsertRequest(
        side,
        "BTC-PERPETUAL",
        amount,
        price=price,
        client_order_id=client_order_id,
        label=label,
        post_only=post_only,
    )
    frame = codec.decode_request(codec.encode_request(3, request))
    assert (frame.id, frame.request) == (3, request)


def test_client_frames_decode_by_shape() -> None:
    codec = ThalexCodec(strict=True)
    assert codec.decode_frame(b'{"id":1,"result":null}') == ThalexResultFrame(1, None)
    assert codec.decode_frame(b'{"id":2,"error":{"code":1,"message":"gone"}}') == (
        ThalexErrorFrame(2, 1, "gone")
    )
    note = codec.decode_frame(orjson.dumps({**TICKER, "snapshot": True}))
    assert isinstance(note, ThalexNotification)
    assert (note.channel.kind, note.channel.subject, note.snapshot) == (
        ChannelKind.TICKER,
        "BTC-PERPETUAL",
        True,
    )


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (b"not json", DecodeFailure.NOT_JSON),
        (b"[1, 2]", DecodeFailure.BAD_ENVELOPE),
        (b'{"id": 1}', DecodeFailure.BAD_ENVELOPE),
        (
            b'{"channel_name": "trades.BTC-PERPETUAL", "notification": []}',
            DecodeFailure.UNKNOWN_CHANNEL,
        ),
        (b'{"channel_name": "index.BTCUSD", "notification": {}}', DecodeFailure.UNKNOWN_CHANNEL),
        (
            b'{"channel_name": "price_index.BTCUSD", "notification": {"price": 1}}',
            DecodeFailure.BAD_PAYLOAD,
        ),
        (
            orjson.dumps({**TICKER, "notification": {**TICKER_BODY, "index": "3"}}),
            DecodeFailure.BAD_PAYLOAD,
        ),
        (
            orjson.dumps({**TICKER, "notification": {**TICKER_BODY, "delta": True}}),
            DecodeFailure.BAD_PAYLOAD,
        ),
        (
            b'{"channel_name": "session.orders", "notification": [{"order_id": 5}]}',
            DecodeFailure.BAD_PAYLOAD,
        ),
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_bad_input_is_a_typed_error(frame: bytes, kind: DecodeFailure, strict: bool) -> None:
    with pytest.raises(WireDecodeError) as caught:
        ThalexCodec(strict=strict).decode_frame(frame)
    assert caught.value.kind is kind


def test_strict_mode_refuses_unknown_keys_lenient_mode_ignores_them() -> None:
    drifted = {**TICKER, "notification": {**TICKER_BODY, "new_field": 1}}
    with pytest.raises(WireDecodeError) as caught:
        ThalexCodec(strict=True).decode_frame(orjson.dumps(drifted))
    assert caught.value.kind is DecodeFailure.BAD_PAYLOAD
    assert "new_field" in str(caught.value)
    note = ThalexCodec().decode_frame(orjson.dumps(drifted))
    assert isinstance(note, ThalexNotification)
    assert note.payload == ThalexTicker(1.5, 2.0, 1.0, 3.0)
    with pytest.raises(WireDecodeError):
        ThalexCodec(strict=True).decode_frame(b'{"id":1,"result":null,"extra":1}')


def test_error_samples_are_truncated() -> None:
    big = b"x" * 10_000
    with pytest.raises(WireDecodeError) as caught:
        ThalexCodec().decode_frame(big)
    assert len(caught.value.sample) < 300


def test_hot_ticker_decoder_knows_every_field_in_order() -> None:
    names = [field.name for field in attrs.fields(ThalexTicker)]
    assert names[:4] == ["mark_price", "mark_timestamp", "delta", "index"]
    assert list(codec_hot.TICKER_OPTIONAL_FIELDS) == names[4:]


def test_hot_and_generic_ticker_decoders_agree() -> None:
    body = {**TICKER_BODY, "best_bid_price": None, "last_price": 7, "iv": 0.5}
    frame = orjson.dumps({**TICKER, "notification": body})
    assert ThalexCodec().decode_frame(frame) == STRICT.decode_frame(frame)
