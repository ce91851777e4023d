"""Codec throughput: frames decoded to domain values, and an insert encoded, per second.

`scripts/bench.py codec [--seconds S]` times bytes -> domain value: the session reader's call
`RpcCorrelator.receive(frame, instruments)` for a ticker and a 10-level book update of the
instrument the runtime trades (the fused `decode_market_frame` path), `decode_frame` ->
`to_domain` for an order notification with a fill, and `from_domain.insert_request` ->
`encode_request` for an insert. `*_generic_*` time the ticker and book through `decode_frame`
and `to_domain`, the path the fused one replaces.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

import orjson

from thalex_trio.domain.actions import Insert
from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookUpdate, Ticker
from thalex_trio.thalex import from_domain, to_domain
from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.rpc import RpcCorrelator
from thalex_trio.thalex.wire_market import ThalexBookPayload, ThalexTicker
from thalex_trio.thalex.wire_orders import ThalexOrdersPayload

if TYPE_CHECKING:
    from collections.abc import Callable

PERP = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)

TICKER_FRAME = orjson.dumps(
    {
        "channel_name": "ticker.BTC-PERPETUAL.100ms",
        "notification": {
            "mark_price": 47238.64,
            "mark_timestamp": 1700000000.123,
            "best_bid_price": 47240,
            "best_bid_amount": 0.4,
            "best_ask_price": 47260,
            "best_ask_amount": 1,
            "last_price": 47250,
            "delta": 1,
            "index": 47200.5,
            "volume_24h": 1234.5,
            "value_24h": 58000000.25,
            "low_price_24h": 47000,
            "high_price_24h": 47500,
            "change_24h": 120,
            "collar_low": 46000,
            "collar_high": 48500,
            "open_interest": 123.456,
            "funding_rate": 0.0001,
            "funding_mark": 0.014,
            "realised_funding_24h": 1.2,
            "average_funding_rate_24h": 0.00009,
        },
    }
)
"""A full perpetual ticker, every field the spec lists for one."""

BOOK_FRAME = orjson.dumps(
    {
        "channel_name": "book.BTC-PERPETUAL.none.10.100ms",
        "notification": {
            "trades": [[47250, 0.05, "buy", 1700000000.1, False]],
            "bid_changes": [[47240 - i, 0.1 * (i + 1), 0.1 * (i + 1)] for i in range(10)],
            "ask_changes": [[47260 + i, 0.2 * (i + 1), 0.2 * (i + 1)] for i in range(10)],
            "total_bid_amount": 5.5,
            "total_ask_amount": 11.0,
            "time": 1700000000.125,
        },
    }
)
"""A book update with ten levels a side and one trade."""

ORDER_FRAME = orjson.dumps(
    {
        "channel_name": "session.orders",
        "notification": [
            {
                "order_id": "001F39C500000000",
                "order_type": "limit",
                "time_in_force": "good_till_cancelled",
                "instrument_name": "BTC-PERPETUAL",
                "direction": "buy",
                "price": 47240.0,
                "amount": 0.2,
                "filled_amount": 0.1,
                "remaining_amount": 0.1,
                "client_order_id": 100,
                "status": "partially_filled",
                "fills": [
                    {
                        "trade_id": "0080000000000000169F22D05B785A2B",
                        "price": 47240.0,
                        "amount": 0.1,
                        "time": 1747562210.2,
                        "maker_taker": "maker",
                        "leg_index": 0,
                    }
                ],
                "change_reason": "fill",
                "insert_reason": "client_request",
                "create_time": 1747562209.1035967,
                "persistent": False,
            }
        ],
    }
)
"""A `session.orders` partial fill, as API.md §9.3 shows it."""


def _rate(body: Callable[[], object], seconds: float) -> float:
    """Calls of `body` per second over about `seconds`, in batches to keep timer overhead out."""
    batch = 1000
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            body()
        calls += batch
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def run(argv: list[str]) -> dict[str, float | int | str]:
    """Measure the four rates; `--seconds` per measurement (default 1.0)."""
    parser = argparse.ArgumentParser(prog="bench.py codec")
    parser.add_argument("--seconds", type=float, default=1.0)
    seconds = parser.parse_args(argv).seconds
    codec = ThalexCodec()

    instruments = {PERP.name: PERP}

    # The session reader's own call for a frame of an instrument it converts (the runtime's
    # traded instrument): bytes straight to the domain value.
    rpc = RpcCorrelator(codec)

    def ticker() -> object:
        ticker = rpc.receive(TICKER_FRAME, instruments)
        assert isinstance(ticker, Ticker)
        return ticker

    def book() -> object:
        book = rpc.receive(BOOK_FRAME, instruments)
        assert isinstance(book, BookUpdate)
        return book

    # The generic path (wire object, then to_domain), kept for comparison.
    def ticker_generic() -> object:
        note = codec.decode_frame(TICKER_FRAME)
        assert isinstance(note, ThalexNotification)
        assert isinstance(note.payload, ThalexTicker)
        return to_domain.ticker_from_wire(note.payload, PERP)

    def book_generic() -> object:
        note = codec.decode_frame(BOOK_FRAME)
        assert isinstance(note, ThalexNotification)
        assert isinstance(note.payload, ThalexBookPayload)
        return to_domain.book_from_wire(note.payload, PERP, snapshot=note.snapshot)

    def order() -> object:
        note = codec.decode_frame(ORDER_FRAME)
        assert isinstance(note, ThalexNotification)
        assert isinstance(note.payload, ThalexOrdersPayload)
        return [to_domain.order_update_from_wire(o, PERP) for o in note.payload.items]

    insert = Insert(ClientOrderId(7), "BTC-PERPETUAL", Side.BUY, 47240, 100)

    def encode() -> object:
        return codec.encode_request(7, from_domain.insert_request(insert, PERP, label="q"))

    return {
        "ticker_decode_per_s": round(_rate(ticker, seconds)),
        "book_decode_per_s": round(_rate(book, seconds)),
        "ticker_generic_decode_per_s": round(_rate(ticker_generic, seconds)),
        "book_generic_decode_per_s": round(_rate(book_generic, seconds)),
        "order_decode_per_s": round(_rate(order, seconds)),
        "insert_encode_per_s": round(_rate(encode, seconds)),
        "seconds_per_measurement": seconds,
    }
