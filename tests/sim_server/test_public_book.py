"""The simulator's public book holds our resting orders, as the exchange's does: a client that
quotes around the book must be able to see itself there (and take itself out). Our fills are
trades like any other: they print on the public tape."""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from thalex_trio.domain.enums import Side
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.server.config import Synthetic
from thalex_trio.thalex.wire_market import ThalexBookPayload, ThalexBookTrade, ThalexTicker
from thalex_trio.thalex.wire_requests import ThalexCancelRequest, ThalexInsertRequest

from .harness import open_client, open_test_server, wait_for

if TYPE_CHECKING:
    from thalex_trio.thalex.frames import ThalexNotification
    from thalex_trio.thalex.session import ThalexSession

PERP = "BTC-PERPETUAL"
BOOK = f"book.{PERP}.none.all.raw"
TICKER = f"ticker.{PERP}.raw"


def _bid_change(note: ThalexNotification, price: float) -> float | None:
    """The amount a book notification sets at bid `price`, None if it does not touch it."""
    payload = note.payload
    if not isinstance(payload, ThalexBookPayload):
        return None
    amounts = [level.amount for level in payload.bid_changes if level.price == price]
    return amounts[-1] if amounts else None


def _trades_at(
    note: ThalexNotification, price: float, amount: float | None = None
) -> list[ThalexBookTrade]:
    """The trades a book notification prints at `price` (only those of `amount` when given)."""
    payload = note.payload
    if not isinstance(payload, ThalexBookPayload):
        return []
    return [
        t for t in payload.trades if t.price == price and (amount is None or t.amount == amount)
    ]


async def _snapshot(client: ThalexSession) -> ThalexBookPayload:
    """The first book snapshot the client receives."""
    note = await wait_for(client.market_events, lambda note: note.snapshot)
    assert isinstance(note.payload, ThalexBookPayload)
    return note.payload


def _best_bid(note: ThalexNotification) -> tuple[float, float]:
    """(price, amount) of a ticker's best bid; (0, 0) for anything else or an empty bid."""
    payload = note.payload
    if not isinstance(payload, ThalexTicker) or payload.best_bid_price is None:
        return 0.0, 0.0
    return payload.best_bid_price, payload.best_bid_amount or 0.0


async def test_a_resting_order_shows_in_the_published_book_until_it_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server, open_client(server, [BOOK]) as client:
        with trio.fail_after(30):
            snapshot = await _snapshot(client)
            best_bid = max(level.price for level in snapshot.bid_changes)
            # Far below the synthetic market's 25 levels: the level is ours alone.
            price = best_bid - 100.0
            insert = ThalexInsertRequest(Side.BUY, PERP, 0.007, price, client_order_id=1)
            await client.request(insert)
            await wait_for(client.market_events, lambda note: _bid_change(note, price) == 0.007)
            await client.request(ThalexCancelRequest(client_order_id=1))
            await wait_for(client.market_events, lambda note: _bid_change(note, price) == 0.0)


async def test_the_ticker_best_bid_is_ours_when_we_improve_the_market(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wide = Synthetic(SyntheticParams(seed=7, half_spread_ticks=5.0, options=None))
    async with open_test_server(market=wide) as server, open_client(server, [TICKER]) as client:
        with trio.fail_after(30):
            first = await wait_for(client.market_events, lambda note: _best_bid(note)[0] > 0)
            market_bid = _best_bid(first)[0]
            # A tick above the market's bid, inside its ten-tick spread: the best bid is ours
            # alone, while the market's own book does not hold it.
            price = market_bid + 1.0
            await client.request(ThalexInsertRequest(Side.BUY, PERP, 0.003, price, post_only=True))
            await wait_for(client.market_events, lambda note: _best_bid(note) == (price, 0.003))
            top = server.core.engine.top_of_book(PERP)
            assert top.bid is not None
            assert top.bid.price_ticks < price


async def test_our_fill_prints_on_the_public_tape(autojump_clock: trio.testing.MockClock) -> None:
    wide = Synthetic(
        SyntheticParams(seed=7, half_spread_ticks=20.0, arrival_a_per_s=20.0, options=None)
    )
    async with open_test_server(market=wide) as server, open_client(server, [BOOK]) as client:
        with trio.fail_after(60):
            snapshot = await _snapshot(client)
            best_bid = max(level.price for level in snapshot.bid_changes)
            # Inside the market's 40-tick spread: no print of the market's own comes here.
            price = best_bid + 15.0
            insert = ThalexInsertRequest(Side.BUY, PERP, 0.004, price, client_order_id=1)
            await client.request(insert)
            note = await wait_for(client.market_events, lambda n: bool(_trades_at(n, price)))
    trade = _trades_at(note, price)[0]
    # Hit by a seller: the tape shows the aggressor's side, and our whole order.
    assert (trade.amount, trade.direction, trade.implied_taker) == (0.004, Side.SELL, False)
    assert server.core.fills == 1


async def test_our_taking_fill_prints_with_us_as_the_aggressor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wide = Synthetic(SyntheticParams(seed=7, half_spread_ticks=20.0, options=None))
    async with open_test_server(market=wide) as server, open_client(server, [BOOK]) as client:
        with trio.fail_after(30):
            snapshot = await _snapshot(client)
            best_ask = min(level.price for level in snapshot.ask_changes)
            # A buy at the market's best ask takes 2 of its hundreds of lots at once.
            insert = ThalexInsertRequest(Side.BUY, PERP, 0.002, best_ask, client_order_id=1)
            await client.request(insert)
            ours = await wait_for(
                client.market_events, lambda n: bool(_trades_at(n, best_ask, 0.002))
            )
    # Our trade, told apart from the market's own prints at that price by its size.
    assert [t.direction for t in _trades_at(ours, best_ask, 0.002)] == [Side.BUY]
    assert server.core.fills == 1
