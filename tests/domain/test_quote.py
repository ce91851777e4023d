"""QuoteLadder validation: each rejection, the order they are checked in, and valid ladders."""

from __future__ import annotations

import pytest

from thalex_trio.domain.enums import Side
from thalex_trio.domain.quote import Quote, QuoteLadder


def bid(price: int) -> Quote:
    return Quote(Side.BUY, price, 1)


def ask(price: int) -> Quote:
    return Quote(Side.SELL, price, 1)


def test_valid_ladders() -> None:
    QuoteLadder("X")
    QuoteLadder("X", (bid(10), bid(9), bid(5)), (ask(11), ask(12)))
    QuoteLadder("X", (bid(10),))
    QuoteLadder("X", (), (ask(1),))


@pytest.mark.parametrize(
    ("bids", "asks", "message"),
    [
        ((ask(10),), (), "a bid ladder level must be a buy"),
        ((bid(10), ask(9)), (), "a bid ladder level must be a buy"),
        ((), (bid(11),), "an ask ladder level must be a sell"),
        ((), (ask(11), bid(12)), "an ask ladder level must be a sell"),
        ((bid(10), bid(10)), (), "bids must be strictly descending in price"),
        ((bid(10), bid(9), bid(11)), (), "bids must be strictly descending in price"),
        ((), (ask(11), ask(11)), "asks must be strictly ascending in price"),
        ((), (ask(11), ask(12), ask(10)), "asks must be strictly ascending in price"),
        ((bid(10),), (ask(10),), "the ladder crosses itself: best bid >= best ask"),
        ((bid(11), bid(5)), (ask(10), ask(12)), "the ladder crosses itself: best bid >= best ask"),
        # Several problems at once: the first check in order decides the message.
        ((bid(9), bid(10)), (bid(1),), "an ask ladder level must be a sell"),
        ((bid(9), bid(10)), (ask(2), ask(1)), "bids must be strictly descending in price"),
        ((bid(20),), (ask(2), ask(1)), "asks must be strictly ascending in price"),
    ],
)
def test_each_rejection(bids: tuple[Quote, ...], asks: tuple[Quote, ...], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        QuoteLadder("X", bids, asks)
