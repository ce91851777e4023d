"""The strategy's output: a desired ladder of quotes per side, in ticks and lots."""

from __future__ import annotations

from itertools import pairwise

from attrs import frozen

from thalex_trio.domain.enums import Side


@frozen
class Quote:
    """One desired resting order: a price level and a size."""

    side: Side
    price_ticks: int
    amount_lots: int


@frozen
class QuoteLadder:
    """Desired quotes for one instrument: bids best (highest) first, asks best (lowest) first.

    An empty side means "no quotes on that side" (withdrawn), not "leave it as it is".
    """

    instrument_name: str
    bids: tuple[Quote, ...] = ()
    asks: tuple[Quote, ...] = ()

    def __attrs_post_init__(self) -> None:
        for quote in self.bids:
            if quote.side is not Side.BUY:
                raise ValueError("a bid ladder level must be a buy")
        for quote in self.asks:
            if quote.side is not Side.SELL:
                raise ValueError("an ask ladder level must be a sell")
        if any(a.price_ticks <= b.price_ticks for a, b in pairwise(self.bids)):
            raise ValueError("bids must be strictly descending in price")
        if any(b.price_ticks <= a.price_ticks for a, b in pairwise(self.asks)):
            raise ValueError("asks must be strictly ascending in price")
        if self.bids and self.asks and self.bids[0].price_ticks >= self.asks[0].price_ticks:
            raise ValueError("the ladder crosses itself: best bid >= best ask")

    def side(self, side: Side) -> tuple[Quote, ...]:
        """The quotes on one side."""
        return self.bids if side is Side.BUY else self.asks
