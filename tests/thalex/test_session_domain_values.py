"""A session converting an instrument's market data: its tickers and books reach
`market_events` as the domain values the generic path would make; everything else, and a frame
whose values do not convert, still arrives as its notification."""

from __future__ import annotations

import orjson
import trio
import trio.testing

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookUpdate, Ticker
from thalex_trio.thalex import to_domain
from thalex_trio.thalex.codec import DecodeFailure, ThalexCodec
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.session import open_thalex_session
from thalex_trio.thalex.wire_market import ThalexBookPayload, ThalexTicker

from .fake_exchange import FakeThalex, loopback

URL = "ws://fake/ws/api/v2"
PERP = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)

TICKER = orjson.dumps(
    {
        "channel_name": "ticker.BTC-PERPETUAL.100ms",
        "notification": {
            "mark_price": 60001.5,
            "mark_timestamp": 1700000000.25,
            "best_bid_price": 60000,
            "best_bid_amount": 0.5,
            "best_ask_price": 60003,
            "best_ask_amount": 1.25,
            "delta": 1,
            "index": 59990.75,
            "funding_rate": 0.0001,
        },
    }
)
BOOK = orjson.dumps(
    {
        "channel_name": "book.BTC-PERPETUAL.none.10.100ms",
        "snapshot": True,
        "notification": {
            "trades": [[60002, 0.05, "buy", 1700000000.1, False]],
            "bid_changes": [[60000, 0.5, 0.5], [59999, 1.0, 1.0]],
            "ask_changes": [[60003, 1.25, 1.25]],
            "time": 1700000000.125,
        },
    }
)
OFF_GRID_BOOK = orjson.dumps(
    {
        "channel_name": "book.BTC-PERPETUAL.none.10.100ms",
        "notification": {"bid_changes": [[60000.5, 1, 1]], "time": 1700000000.2},
    }
)
OTHER_TICKER = TICKER.replace(b"BTC-PERPETUAL", b"ETH-PERPETUAL")


def generic(frame: bytes) -> ThalexNotification:
    note = ThalexCodec().decode_frame(frame)
    assert isinstance(note, ThalexNotification)
    return note


async def test_converted_instruments_arrive_as_domain_values(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = FakeThalex()
    async with (
        loopback(server) as connect,
        open_thalex_session(URL, None, connect=connect, subscribe=()) as session,
    ):
        session.convert_market_data(PERP)
        with trio.fail_after(5):
            await server.connected.wait()
        for frame in (TICKER, BOOK, b"{not json", OFF_GRID_BOOK, OTHER_TICKER):
            await server.send(frame)
        with trio.fail_after(5):
            events = [await session.market_events.receive() for _ in range(4)]
        skipped = session.rpc.skipped

    ticker, book, off_grid, other = events
    wire_ticker = generic(TICKER).payload
    assert isinstance(wire_ticker, ThalexTicker)
    assert isinstance(ticker, Ticker)
    assert ticker == to_domain.ticker_from_wire(wire_ticker, PERP)
    wire_book = generic(BOOK).payload
    assert isinstance(wire_book, ThalexBookPayload)
    assert isinstance(book, BookUpdate)
    assert book == to_domain.book_from_wire(wire_book, PERP, snapshot=True)
    assert book.is_snapshot
    # Values that do not convert reach the consumer as the notification, for it to report.
    assert off_grid == generic(OFF_GRID_BOOK)
    # An instrument the session was not asked to convert: the notification, as before.
    assert other == generic(OTHER_TICKER)
    assert skipped == {DecodeFailure.NOT_JSON: 1}
