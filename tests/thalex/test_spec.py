"""Our frames against Thalex's own openapi.json: requests, results, notifications."""

from __future__ import annotations

import math

import attrs
import orjson
import pytest

from thalex_trio.domain.enums import (
    ChangeReason,
    InstrumentKind,
    Liquidity,
    OrderStatus,
    Side,
)
from thalex_trio.domain.instrument import Instrument
from thalex_trio.thalex import to_domain
from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.codec import REQUEST_TYPES, ThalexCodec
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.wire_account import (
    ThalexAccountSummary,
    ThalexMmProtectionPayload,
    ThalexPortfolioPayload,
)
from thalex_trio.thalex.wire_enums import SystemEventKind
from thalex_trio.thalex.wire_market import (
    ThalexBookPayload,
    ThalexIndex,
    ThalexInstrumentsPayload,
    ThalexLwt,
    ThalexRecentTrades,
    ThalexSystemEvent,
    ThalexTicker,
)
from thalex_trio.thalex.wire_orders import ThalexOrdersPayload, ThalexTradesPayload

from . import spec
from .test_golden_frames import CASES

PERP = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 0.5, 0.001, 0.001)
"""Tick 0.5 so the book example's 9120.5 is on the grid."""

CHANNELS = {
    ChannelKind.BOOK: "book.<instrument>.<grouping>.<nlevels>.<delay>",
    ChannelKind.TICKER: "ticker.<instrument>.<delay>",
    ChannelKind.LWT: "lwt.<instrument>.<delay>",
    ChannelKind.RECENT_TRADES: "recent_trades.<target>.<category>",
    ChannelKind.PRICE_INDEX: "price_index.<underlying>",
    ChannelKind.INSTRUMENTS: "instruments",
    ChannelKind.SYSTEM: "system",
    ChannelKind.SESSION_ORDERS: "session.orders",
    ChannelKind.ACCOUNT_ORDERS: "account.orders",
    ChannelKind.ACCOUNT_PERSISTENT_ORDERS: "account.persistent_orders",
    ChannelKind.ACCOUNT_TRADE_HISTORY: "account.trade_history",
    ChannelKind.ACCOUNT_PORTFOLIO: "account.portfolio",
    ChannelKind.ACCOUNT_SUMMARY: "account.summary",
    ChannelKind.SESSION_MM_PROTECTION: "session.mm_protection",
}

_MISSING_CREATE_PERSISTENT = [
    "'create_time' is a required property",
    "'persistent' is a required property",
]
SPEC_EXAMPLE_DEFECTS: dict[ChannelKind, tuple[list[str], dict[str, object]]] = {
    # The spec's own examples break its own `required` lists; pinned here so a fixed spec shows.
    ChannelKind.TICKER: (["'index' is a required property"], {"index": 47200.5}),
    ChannelKind.SESSION_ORDERS: (
        _MISSING_CREATE_PERSISTENT,
        {"create_time": 1747562209.1, "persistent": False},
    ),
    ChannelKind.ACCOUNT_ORDERS: (
        _MISSING_CREATE_PERSISTENT,
        {"create_time": 1747562209.1, "persistent": False},
    ),
    ChannelKind.ACCOUNT_PERSISTENT_ORDERS: (
        _MISSING_CREATE_PERSISTENT,
        {"create_time": 1747562209.1, "persistent": True},
    ),
}


def patched_example(kind: ChannelKind) -> dict[str, object]:
    """The spec example of `kind`, with its pinned defects asserted and then repaired."""
    pattern = CHANNELS[kind]
    example = spec.notification_example(pattern)
    expected_errors, repair = SPEC_EXAMPLE_DEFECTS.get(kind, ([], {}))
    assert spec.errors(spec.payload_schema(pattern), example) == expected_errors
    if repair:
        body = example["notification"]
        for item in body if isinstance(body, list) else [body]:
            # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
            item.update(repair)  # type: ignore[union-attr]
    assert spec.errors(spec.payload_schema(pattern), example) == []
    return example


@pytest.mark.parametrize("label", sorted(CASES))
def test_every_request_we_build_validates_against_the_spec(label: str) -> None:
    request_id, request = CASES[label]
    frame = orjson.loads(ThalexCodec().encode_request(request_id, request))
    assert spec.errors(spec.request_schema(request.method), frame) == []


def test_every_request_type_is_a_spec_method() -> None:
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    methods = {m for m in spec.openapi()["paths"] if not m.startswith("/")}  # type: ignore[attr-defined]
    assert set(REQUEST_TYPES) <= methods


@pytest.mark.parametrize("kind", list(CHANNELS), ids=lambda k: k.value)
def test_spec_example_notification_decodes_and_round_trips(kind: ChannelKind) -> None:
    example = patched_example(kind)
    codec = ThalexCodec(strict=True)
    decoded = codec.decode_frame(orjson.dumps(example))
    assert isinstance(decoded, ThalexNotification)
    assert decoded.channel.kind is kind
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    again = codec.encode_notification(example["channel_name"], decoded.payload)  # type: ignore[arg-type]
    assert spec.errors(spec.payload_schema(CHANNELS[kind]), orjson.loads(again)) == []
    assert codec.decode_frame(again) == decoded
    lenient = ThalexCodec().decode_frame(orjson.dumps(example))
    assert lenient == decoded


def _decode(kind: ChannelKind) -> ThalexNotification:
    decoded = ThalexCodec(strict=True).decode_frame(orjson.dumps(patched_example(kind)))
    assert isinstance(decoded, ThalexNotification)
    return decoded


def test_ticker_example_to_domain() -> None:
    payload = _decode(ChannelKind.TICKER).payload
    assert isinstance(payload, ThalexTicker)
    ticker = to_domain.ticker_from_wire(payload, PERP)
    assert ticker.mark_price == 47238.64
    assert ticker.time_ns == 946_684_800 * 10**9
    assert (ticker.best_bid_price, ticker.best_ask_price) == (47240, 47260)
    assert (ticker.best_bid_amount, ticker.best_ask_amount) == (0.4, 1)
    assert ticker.delta == 1


def test_book_example_to_domain() -> None:
    payload = _decode(ChannelKind.BOOK).payload
    assert isinstance(payload, ThalexBookPayload)
    book = to_domain.book_from_wire(payload, PERP, snapshot=False)
    # [9120.5, 0, 0] removes a level; [9121, 54, 53] sets one; tick 0.5, lot 0.001.
    assert [(lv.price_ticks, lv.amount_lots) for lv in book.bids] == [(18241, 0), (18242, 54000)]
    assert book.asks == ()
    assert [(t.price_ticks, t.amount_lots, t.aggressor) for t in book.trades] == [
        (18241, 15000, Side.BUY),
        (18242, 30000, Side.BUY),
    ]
    assert book.time_ns == 1683901254785744000  # microsecond resolution, exact


@pytest.mark.parametrize(
    "kind",
    [ChannelKind.SESSION_ORDERS, ChannelKind.ACCOUNT_ORDERS, ChannelKind.ACCOUNT_PERSISTENT_ORDERS],
)
def test_order_examples_to_domain(kind: ChannelKind) -> None:
    payload = _decode(kind).payload
    assert isinstance(payload, ThalexOrdersPayload)
    (order,) = payload.items
    # The spec's example order has no client_order_id: it is not one of ours.
    assert to_domain.order_update_from_wire(order, PERP) is None
    ours = to_domain.order_update_from_wire(attrs.evolve(order, client_order_id=7), PERP)
    assert ours is not None
    assert (ours.status, ours.change_reason) == (OrderStatus.OPEN, ChangeReason.INSERT)
    assert (ours.price_ticks, ours.amount_lots, ours.filled_lots) == (90000, 1100, 0)


def test_trade_history_example_to_domain() -> None:
    payload = _decode(ChannelKind.ACCOUNT_TRADE_HISTORY).payload
    assert isinstance(payload, ThalexTradesPayload)
    (trade,) = payload.items
    assert trade.maker_taker is None  # the spec example lacks it, so it is no complete fill
    with pytest.raises(to_domain.IncompleteWireValue):
        to_domain.fill_from_trade(trade, PERP)
    fill = to_domain.fill_from_trade(attrs.evolve(trade, maker_taker=Liquidity.MAKER), PERP)
    assert (fill.side, fill.price_ticks, fill.amount_lots, fill.fee) == (Side.BUY, 94560, 100, 1.18)


def test_portfolio_example_to_domain() -> None:
    payload = _decode(ChannelKind.ACCOUNT_PORTFOLIO).payload
    assert isinstance(payload, ThalexPortfolioPayload)
    (entry,) = payload.items
    assert entry.instrument_name == "BTC-PERPETUAL"
    assert to_domain.position_lots(entry, PERP) == 1000


def test_small_channel_examples() -> None:
    index = _decode(ChannelKind.PRICE_INDEX).payload
    assert isinstance(index, ThalexIndex)
    assert to_domain.index_from_wire(index).price == 47389.10833333334
    lwt = _decode(ChannelKind.LWT).payload
    assert isinstance(lwt, ThalexLwt)
    top = to_domain.top_of_book_from_lwt(lwt, PERP, 5)
    assert top.bid is not None
    assert top.ask is not None
    assert (top.bid.price_ticks, top.ask.price_ticks, top.ask.amount_lots) == (94480, 94520, 1000)
    assert lwt.mark_price == 65536.16
    assert lwt.last_price == 47252
    trades = _decode(ChannelKind.RECENT_TRADES).payload
    assert isinstance(trades, ThalexRecentTrades)
    assert trades.items[0].instrument_name == "BTC-11MAY22-32400-C"
    system = _decode(ChannelKind.SYSTEM).payload
    assert system == ThalexSystemEvent(SystemEventKind.RECONNECT)
    summary = _decode(ChannelKind.ACCOUNT_SUMMARY).payload
    assert isinstance(summary, ThalexAccountSummary)
    assert summary.cash[0].collateral_index_price is None
    assert math.isclose(summary.remaining_margin, 999999991870.2781)
    protection = _decode(ChannelKind.SESSION_MM_PROTECTION).payload
    assert isinstance(protection, ThalexMmProtectionPayload)
    assert protection.items[0].remaining_amount == 10


def test_instruments_notification_from_api_md_to_domain() -> None:
    # The spec has no example for `instruments`; this is API.md §9.3's.
    frame = {
        "channel_name": "instruments",
        "notification": [
            {
                "added": {
                    "instrument_name": "BTC-10SEP21-70000-C",
                    "product": "OBTCUSD",
                    "tick_size": 5,
                    "volume_tick_size": 0.1,
                    "min_order_amount": 0.1,
                    "underlying": "BTCUSD",
                    "type": "option",
                    "option_type": "call",
                    "expiry_date": "2021-09-10",
                    "expiration_timestamp": 1631260800,
                    "strike_price": 70000,
                    "base_currency": "USD",
                    "create_time": 1631250800.103645,
                }
            }
        ],
        "snapshot": True,
    }
    assert spec.errors(spec.payload_schema("instruments"), frame) == []
    decoded = ThalexCodec(strict=True).decode_frame(orjson.dumps(frame))
    assert isinstance(decoded, ThalexNotification)
    assert decoded.snapshot
    assert isinstance(decoded.payload, ThalexInstrumentsPayload)
    added = decoded.payload.items[0].added
    assert added is not None
    instrument = to_domain.instrument_from_wire(added)
    assert (instrument.kind, instrument.tick_e8, instrument.strike_price) == (
        InstrumentKind.OPTION,
        5 * 10**8,
        70000,
    )


def _repair_result(raw: object) -> object:
    """Add the required fields the spec's own result examples leave out (pinned defects)."""
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if isinstance(item, dict) and "order_id" in item and "status" in item:
            assert "create_time" not in item
            assert "persistent" not in item
            item.update(create_time=1747562209.1, persistent=False)
        if isinstance(item, dict) and "mark_timestamp" in item:
            assert "index" not in item
            item["index"] = 47200.5
    return raw


RESULT_METHODS = [
    m
    for m in REQUEST_TYPES
    if m != "public/book"  # the spec's book example nests a second "result" (a defect)
]


@pytest.mark.parametrize("method", RESULT_METHODS)
def test_spec_result_examples_decode_and_reencode(method: str) -> None:
    codec = ThalexCodec(strict=True)
    request_cls = REQUEST_TYPES[method]
    raw = spec.result_example(method)
    raw = _repair_result(raw)
    # Decoding needs a request instance only for its type.
    request = object.__new__(request_cls)
    result = codec.decode_result(request, raw)
    frame = orjson.loads(codec.encode_result(42, result))
    assert list(frame) == ["id", "result"]
    assert spec.errors(spec.response_schema(method), frame) == []
    assert codec.decode_result(request, frame["result"]) == result
