"""The bytes we send match the official connector's frames (official-client-frames.txt)."""

from __future__ import annotations

import json

import orjson
import pytest

from thalex_trio.domain.enums import Collar, OrderType, Side, TimeInForce
from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.wire_enums import Sort, StpAction, StpLevel
from thalex_trio.thalex.wire_requests import (
    ThalexAccountSummaryRequest,
    ThalexAmendRequest,
    ThalexBookRequest,
    ThalexCancelAllRequest,
    ThalexCancelMassQuoteRequest,
    ThalexCancelRequest,
    ThalexCancelSessionRequest,
    ThalexDoubleSidedQuote,
    ThalexIndexRequest,
    ThalexInsertRequest,
    ThalexInstrumentRequest,
    ThalexInstrumentsRequest,
    ThalexLoginRequest,
    ThalexMassQuoteRequest,
    ThalexOpenOrdersRequest,
    ThalexPortfolioRequest,
    ThalexPrivateSubscribeRequest,
    ThalexPublicSubscribeRequest,
    ThalexQuoteLevel,
    ThalexRequest,
    ThalexSetCancelOnDisconnectRequest,
    ThalexSetMmProtectionRequest,
    ThalexSystemInfoRequest,
    ThalexTickerRequest,
    ThalexTradeHistoryRequest,
    ThalexUnsubscribeRequest,
)

from .spec import SHARED

PERP = "BTC-PERPETUAL"

# label in official-client-frames.txt -> (id, our request)
CASES: dict[str, tuple[int | None, ThalexRequest]] = {
    "login": (1, ThalexLoginRequest("<JWT>", "A123456789")),
    "set_cancel_on_disconnect": (2, ThalexSetCancelOnDisconnectRequest(6)),
    "instruments": (3, ThalexInstrumentsRequest()),
    "instrument": (4, ThalexInstrumentRequest(PERP)),
    "ticker": (5, ThalexTickerRequest(PERP)),
    "index": (6, ThalexIndexRequest("BTCUSD")),
    "book": (7, ThalexBookRequest(PERP)),
    "insert": (
        100,
        ThalexInsertRequest(
            Side.BUY,
            PERP,
            0.1,
            price=50000,
            client_order_id=1001,
            label="q",
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            post_only=True,
            reject_post_only=True,
            reduce_only=False,
        ),
    ),
    "insert_market": (101, ThalexInsertRequest(Side.SELL, PERP, 0.1, order_type=OrderType.MARKET)),
    "insert_with_collar_str": (
        103,
        ThalexInsertRequest(
            Side.BUY,
            PERP,
            0.1,
            price=1,
            collar=Collar.CLAMP,
            stp_level=StpLevel.ACCOUNT,
            stp_action=StpAction.CANCEL_AGGRESSIVE_NO_FILL,
        ),
    ),
    "amend": (107, ThalexAmendRequest(0.2, 50010, client_order_id=1001)),
    "amend_oid": (108, ThalexAmendRequest(0.2, 50010, order_id="00011E570000004B")),
    "cancel_cid": (109, ThalexCancelRequest(client_order_id=1001)),
    "cancel_oid": (110, ThalexCancelRequest(order_id="00011E570000004B")),
    "cancel_all": (111, ThalexCancelAllRequest()),
    "cancel_session": (112, ThalexCancelSessionRequest()),
    "mass_quote": (
        113,
        ThalexMassQuoteRequest(
            (
                ThalexDoubleSidedQuote(
                    PERP, bid=ThalexQuoteLevel(49990, 0.1), ask=ThalexQuoteLevel(50010, 0.1)
                ),
                ThalexDoubleSidedQuote("BTC-27JUN25", ask=ThalexQuoteLevel(51000, 0)),
            ),
            label="mq",
            post_only=True,
        ),
    ),
    "cancel_mass_quote": (114, ThalexCancelMassQuoteRequest("FBTCUSD")),
    "set_mm_protection": (115, ThalexSetMmProtectionRequest("FBTCUSD", 1, 0.5)),
    "portfolio": (116, ThalexPortfolioRequest()),
    "open_orders": (117, ThalexOpenOrdersRequest()),
    "trade_history": (
        119,
        ThalexTradeHistoryRequest(limit=10, sort=Sort.ASCENDING, instrument_names=PERP),
    ),
    "account_summary": (120, ThalexAccountSummaryRequest()),
    "public_subscribe": (
        124,
        ThalexPublicSubscribeRequest(
            ("ticker.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.none.10.100ms")
        ),
    ),
    "private_subscribe": (
        125,
        ThalexPrivateSubscribeRequest(("session.orders", "account.portfolio")),
    ),
    "unsubscribe": (126, ThalexUnsubscribeRequest(("ticker.BTC-PERPETUAL.100ms",))),
    "system_info": (129, ThalexSystemInfoRequest()),
    "system_info_no_id": (None, ThalexSystemInfoRequest()),
}


def official_frames() -> dict[str, str]:
    """label -> the WIRE line the official connector produced."""
    frames: dict[str, str] = {}
    label = None
    for line in (SHARED / "official-client-frames.txt").read_text().splitlines():
        if line.startswith("### "):
            label = line[4:].split(":", 1)[0]
        elif line.strip().startswith("WIRE: ") and label is not None:
            frames[label] = line.strip()[len("WIRE: ") :]
    return frames


def test_every_case_has_an_official_frame() -> None:
    assert set(CASES) <= set(official_frames())


@pytest.mark.parametrize("label", sorted(CASES))
def test_request_bytes_match_the_official_connector(label: str) -> None:
    request_id, request = CASES[label]
    ours = ThalexCodec(strict=True).encode_request(request_id, request)
    theirs = official_frames()[label]
    assert orjson.loads(ours) == json.loads(theirs)
    # Same top-level key order too: method, params, id (no id when there is none).
    assert list(orjson.loads(ours)) == list(json.loads(theirs))


@pytest.mark.parametrize("label", sorted(CASES))
def test_server_decodes_what_we_send(label: str) -> None:
    request_id, request = CASES[label]
    codec = ThalexCodec(strict=True)
    frame = codec.decode_request(codec.encode_request(request_id, request))
    assert frame.id == request_id
    assert frame.request == request
