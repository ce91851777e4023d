"""The strategy's output: a desired ladder of quotes per side, in ticks and lots."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.domain.enums import Side

# Enum members as module constants: `Side.BUY` is a descriptor lookup (about 0.25 us on
# Python 3.11 here), too slow for a check that runs on every level of every new ladder.
_BUY = Side.BUY
_SELL = Side.SELL


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
        # Plain loops over a handful of levels: the strategy builds a new ladder whenever its
        # quotes move, and generator-based `any(... pairwise(...))` cost several times more.
        # The checks run in this order, so the first problem found is always the same one.
        bids = self.bids
        asks = self.asks
        for quote in bids:
            if quote.side is not _BUY:
                raise ValueError("a bid ladder level must be a buy")
        for quote in asks:
            if quote.side is not _SELL:
                raise ValueError("an ask ladder level must be a sell")
        if bids:
            previous = bids[0].price_ticks
            for quote in bids[1:]:
                price = quote.price_ticks
                if previous <= price:
                    raise ValueError("bids must be strictly descending in price")
                previous = price
        if asks:
            previous = asks[0].price_ticks
            for quote in asks[1:]:
                price = quote.price_ticks
                if price <= previous:
                    raise ValueError("asks must be strictly ascending in price")
                previous = price
            if bids and bids[0].price_ticks >= asks[0].price_ticks:
                raise ValueError("the ladder crosses itself: best bid >= best ask")

    def side(self, side: Side) -> tuple[Quote, ...]:
        """The quotes on one side."""
        return self.bids if side is Side.BUY else self.asks
