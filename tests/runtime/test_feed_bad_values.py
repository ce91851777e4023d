"""The market feed counts and skips a notification whose values do not convert, and goes on."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import orjson
import trio

from tests.runtime.harness import make_context
from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.runtime.context import Trading
from thalex_trio.runtime.feed import run_market_feed
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.frames import ThalexNotification

if TYPE_CHECKING:
    from thalex_trio.domain.market import BookUpdate
    from thalex_trio.runtime.venue import Venue

INSTRUMENT = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)
CHANNEL = "book.BTC-PERPETUAL.none.10.100ms"


class ObservingVenue:
    """The one venue method the market feed calls."""

    def __init__(self) -> None:
        self.observed: list[BookUpdate] = []

    def observe_market(self, update: BookUpdate) -> None:
        self.observed.append(update)


def book_frame(
    bids: list[list[float]], asks: list[list[float]], time_s: float, *, snapshot: bool = False
) -> bytes:
    body = {"bid_changes": bids, "ask_changes": asks, "trades": [], "time": time_s}
    frame: dict[str, object] = {"channel_name": CHANNEL, "notification": body}
    if snapshot:
        frame["snapshot"] = True
    return orjson.dumps(frame)


async def test_an_off_grid_book_update_is_counted_and_the_next_one_applies() -> None:
    codec = ThalexCodec()
    frames = [
        book_frame([[60000, 1, 1]], [[60002, 1, 1]], 1.0, snapshot=True),
        book_frame([[60000.5, 1, 1]], [], 2.0),  # off the 1.0 tick grid: not a price we trade
        book_frame([[60001, 2, 2]], [], 3.0),
    ]
    notes = [codec.decode_frame(f) for f in frames]
    assert all(isinstance(n, ThalexNotification) for n in notes)
    ctx = make_context()
    trading = Trading(INSTRUMENT, Quoter(INSTRUMENT), OrderTracker(INSTRUMENT))
    venue = ObservingVenue()
    send, receive = trio.open_memory_channel[ThalexNotification](len(notes))
    for note in notes:
        send.send_nowait(cast("ThalexNotification", note))
    send.close()
    # Returns once the channel is drained and closed.
    await run_market_feed(ctx, trading, cast("Venue", venue), receive, lambda _note: None)
    assert ctx.stats.bad_market_values == 1
    assert len(venue.observed) == 2
    assert trading.best_bid_ticks == 60001
    assert trading.best_ask_ticks == 60002
