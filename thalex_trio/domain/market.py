"""Market data values in domain units: book levels, top of book, trades, tickers, index."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.domain.enums import Side


@frozen
class BookLevel:
    """One price level of an L2 book; `amount_lots` 0 removes the level in a delta."""

    price_ticks: int
    amount_lots: int


@frozen
class TopOfBook:
    """Best bid and ask with sizes; a side is `None` when it is empty."""

    instrument_name: str
    bid: BookLevel | None
    ask: BookLevel | None
    time_ns: int

    @property
    def mid_ticks(self) -> float | None:
        """Mid price in (fractional) ticks, or None unless both sides exist."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid.price_ticks + self.ask.price_ticks) / 2

    @property
    def spread_ticks(self) -> int | None:
        """Best ask minus best bid, or None unless both sides exist."""
        if self.bid is None or self.ask is None:
            return None
        return self.ask.price_ticks - self.bid.price_ticks


@frozen
class BookUpdate:
    """A book snapshot or delta: levels to set (amount 0 removes) plus trades printed."""

    instrument_name: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    trades: tuple[Trade, ...]
    is_snapshot: bool
    time_ns: int


@frozen
class Trade:
    """A public trade; `aggressor` is the taker's side."""

    instrument_name: str
    price_ticks: int
    amount_lots: int
    aggressor: Side
    time_ns: int


@frozen
class Ticker:
    """Ticker values. Prices are floats: mark and index are not on the tick grid.

    `funding_rate` is per funding interval, positive when longs pay (API.md §9.3); `iv` and
    `delta` are set for options.
    """

    instrument_name: str
    mark_price: float
    index_price: float
    time_ns: int
    best_bid_price: float | None = None
    best_bid_amount: float | None = None
    best_ask_price: float | None = None
    best_ask_amount: float | None = None
    last_price: float | None = None
    funding_rate: float | None = None
    funding_mark: float | None = None
    iv: float | None = None
    delta: float | None = None
    forward: float | None = None


@frozen
class IndexPrice:
    """An index print (`price_index.<underlying>`)."""

    index_name: str
    price: float
    time_ns: int
