"""The project's protocol client against the simulator, end to end, every frame checked
against openapi.json."""

from __future__ import annotations

import trio

from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    Liquidity,
    OrderStatus,
    Side,
    TimeInForce,
)
from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.wire_account import ThalexPortfolioPayload
from thalex_trio.thalex.wire_market import ThalexTicker
from thalex_trio.thalex.wire_orders import (
    ThalexOrdersPayload,
    ThalexOrderStatus,
    ThalexTradesPayload,
)
from thalex_trio.thalex.wire_requests import (
    ThalexAccountSummaryRequest,
    ThalexAmendRequest,
    ThalexBookRequest,
    ThalexCancelAllRequest,
    ThalexCancelRequest,
    ThalexInsertRequest,
    ThalexInstrumentsRequest,
    ThalexOpenOrdersRequest,
    ThalexPortfolioRequest,
    ThalexTickerRequest,
    ThalexTradeHistoryRequest,
)

from .harness import open_client, open_test_server, spec_violations, wait_for

PERP = "BTC-PERPETUAL"
CHANNELS = (
    f"book.{PERP}.none.10.100ms",
    f"ticker.{PERP}.100ms",
    f"lwt.{PERP}.raw",
    f"recent_trades.{PERP}.single",
    "price_index.BTCUSD",
    "instruments",
    "system",
    "session.orders",
    "account.orders",
    "account.portfolio",
    "account.trade_history",
)


def _orders(note: ThalexNotification, channel: str = "session.orders") -> list[ThalexOrderStatus]:
    if note.channel.name != channel or not isinstance(note.payload, ThalexOrdersPayload):
        return []
    return list(note.payload.items)


async def test_client_trades_end_to_end_and_every_frame_matches_the_spec(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server, open_client(server, CHANNELS) as session:
        assert session.account_number == "A000000001"
        assert set(session.subscriptions) == set(CHANNELS)
        with trio.fail_after(30):
            ticker = await session.request(ThalexTickerRequest(PERP))
        assert ticker.best_bid_price is not None
        assert ticker.best_ask_price is not None
        bid, ask = ticker.best_bid_price, ticker.best_ask_price

        # insert far from the market, amend, cancel
        with trio.fail_after(30):
            placed = await session.request(
                ThalexInsertRequest(Side.BUY, PERP, 0.01, bid - 50, client_order_id=1, label="q")
            )
            assert (placed.status, placed.change_reason) == (OrderStatus.OPEN, ChangeReason.INSERT)
            assert placed.persistent is False
            amended = await session.request(
                ThalexAmendRequest(amount=0.02, price=bid - 40, client_order_id=1)
            )
            assert (amended.price, amended.amount) == (bid - 40, 0.02)
            assert amended.change_reason is ChangeReason.AMEND
            assert len(await session.request(ThalexOpenOrdersRequest())) == 1
            cancelled = await session.request(ThalexCancelRequest(client_order_id=1))
            assert cancelled.status is OrderStatus.CANCELLED
            assert cancelled.delete_reason is DeleteReason.CLIENT_CANCEL

            # an aggressive order fills at once as taker
            taken = await session.request(
                ThalexInsertRequest(
                    Side.BUY,
                    PERP,
                    0.005,
                    ask + 20,
                    client_order_id=2,
                    time_in_force=TimeInForce.IOC,
                )
            )
        assert taken.status is OrderStatus.FILLED
        assert taken.fills
        assert taken.fills[0].maker_taker is Liquidity.TAKER

        # the notifications follow: order channel, portfolio, then trade history
        seen: list[ThalexNotification] = []
        with trio.fail_after(30):
            await wait_for(
                session.account_events,
                lambda n: n.channel.kind is ChannelKind.ACCOUNT_TRADE_HISTORY,
                seen,
            )
        order_fill = next(i for i, n in enumerate(seen) if any(
            o.client_order_id == 2 and o.fills for o in _orders(n)
        ))  # fmt: skip
        portfolio = next(
            i
            for i, n in enumerate(seen)
            if isinstance(n.payload, ThalexPortfolioPayload) and not n.snapshot
        )
        trades = next(i for i, n in enumerate(seen) if isinstance(n.payload, ThalexTradesPayload))
        assert order_fill < portfolio < trades
        # type-ignore reason: the portfolio channel's payload is one member of the payload union
        assert seen[portfolio].payload.items[0].position == 0.005  # type: ignore[union-attr]

        # a resting quote at the touch is filled by the market's flow, as maker
        with trio.fail_after(30):
            ticker = await session.request(ThalexTickerRequest(PERP))
            assert ticker.best_ask_price is not None
            await session.request(
                ThalexInsertRequest(
                    Side.SELL,
                    PERP,
                    0.001,
                    ticker.best_ask_price,
                    client_order_id=3,
                    post_only=True,
                )
            )
        with trio.fail_after(120):
            maker = await wait_for(
                session.account_events,
                lambda n: any(o.client_order_id == 3 and o.fills for o in _orders(n)),
            )
        (status,) = _orders(maker)
        assert status.fills[0].maker_taker is Liquidity.MAKER

        with trio.fail_after(30):
            portfolio_now = await session.request(ThalexPortfolioRequest())
            assert portfolio_now[0].position == 0.004
            history = await session.request(ThalexTradeHistoryRequest())
            assert [t.client_order_id for t in history.trades] == [3, 2]
            await session.request(ThalexAccountSummaryRequest())
            await session.request(ThalexInstrumentsRequest())
            book = await session.request(ThalexBookRequest(PERP))
            assert len(book.bids) == 5
            await session.request(
                ThalexInsertRequest(Side.BUY, PERP, 0.01, bid - 100, client_order_id=4)
            )
            assert await session.request(ThalexCancelAllRequest()) == 1

        # market channels arrived: snapshots first
        kinds: dict[ChannelKind, list[ThalexNotification]] = {}
        while True:
            try:
                note = session.market_events.receive_nowait()
            except trio.WouldBlock:
                break
            assert isinstance(note, ThalexNotification)
            kinds.setdefault(note.channel.kind, []).append(note)
        assert kinds[ChannelKind.BOOK][0].snapshot
        assert len(kinds[ChannelKind.BOOK]) > 1
        assert kinds[ChannelKind.INSTRUMENTS][0].snapshot
        assert isinstance(kinds[ChannelKind.TICKER][0].payload, ThalexTicker)
        for kind in (ChannelKind.LWT, ChannelKind.PRICE_INDEX, ChannelKind.RECENT_TRADES):
            assert kinds[kind], kind

    problems, counts = spec_violations(server)
    assert problems == []
    for method in ("public/login", "private/insert", "private/amend", "private/cancel"):
        assert counts[method] >= 1
    for pattern in ("session.orders", "account.portfolio", "account.trade_history"):
        assert counts[pattern] >= 1
