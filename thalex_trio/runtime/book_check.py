"""Whether our copy of the book still matches the exchange's.

The book channel sends deltas without sequence numbers, so a delta lost on the way goes
unnoticed: a level that went stays in our book (or one that came is missing) until that price
changes again, and we would quote around a top the market no longer has. Two signs show it:

- our book is crossed (a consistent book never is);
- the ticker, which the exchange sends whenever its best bid or ask changes, names another
  best bid or ask than our book's top (both with our own orders in them).

A ticker can overtake the book delta of the same change, so a sign counts only once it has
lasted `tolerance_ns`; any agreement in between clears it. Then a fresh snapshot is due (the
session resubscribes the book). Snapshots are asked for at most every `retry_ns`; when the
doubt keeps coming back right after each one (a disagreement no snapshot cures, such as a
ticker that counts liquidity the book does not), the interval doubles up to `max_retry_ns`,
and a calm spell brings it back. Pure: the feed calls it with its clock's readings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thalex_trio.domain.market import TopOfBook

BOOK_DOUBT_TOLERANCE_S = 2.0
"""How long a sign of a lost delta must last before the book is resnapshotted (a ticker is
throttled to 100 ms, so an honest disagreement with the book ends well within this)."""

BOOK_SNAPSHOT_RETRY_S = 10.0
"""After asking for a snapshot, how long before asking again if the doubt stays."""

BOOK_SNAPSHOT_MAX_RETRY_S = 600.0
"""The longest interval between snapshots asked for, however often the doubt comes back."""


class BookCheck:
    """Signs that our book lost a delta, and when to ask for a fresh snapshot."""

    __slots__ = (
        "_asked_ns",
        "_crossed_since_ns",
        "_interval_ns",
        "_mismatch_since_ns",
        "_ticker_top",
        "max_retry_ns",
        "retry_ns",
        "tolerance_ns",
    )

    def __init__(self, tolerance_ns: int, retry_ns: int, max_retry_ns: int) -> None:
        self.tolerance_ns = tolerance_ns
        self.retry_ns = retry_ns
        self.max_retry_ns = max_retry_ns
        self._interval_ns = retry_ns
        self._crossed_since_ns: int | None = None
        self._mismatch_since_ns: int | None = None
        self._ticker_top: tuple[int | None, int | None] | None = None
        self._asked_ns: int | None = None

    def on_snapshot(self) -> None:
        """A snapshot replaced our book: nothing is in doubt any more (the pace of asking
        stays: a doubt that comes straight back slows it down)."""
        self._crossed_since_ns = self._mismatch_since_ns = None

    def on_book(self, top: TopOfBook, now_ns: int) -> None:
        """Our book's top (own orders included) after an update."""
        bid, ask = top.bid, top.ask
        if bid is not None and ask is not None and bid.price_ticks >= ask.price_ticks:
            if self._crossed_since_ns is None:
                self._crossed_since_ns = now_ns
        else:
            self._crossed_since_ns = None
        if self._ticker_top is not None and self._ticker_top == _prices(top):
            self._mismatch_since_ns = None

    def on_ticker(
        self, bid_ticks: int | None, ask_ticks: int | None, top: TopOfBook, now_ns: int
    ) -> None:
        """The ticker's best bid and ask, with our book's top as it stands."""
        self._ticker_top = (bid_ticks, ask_ticks)
        if self._ticker_top == _prices(top):
            self._mismatch_since_ns = None
        elif self._mismatch_since_ns is None:
            self._mismatch_since_ns = now_ns

    def snapshot_due(self, now_ns: int) -> bool:
        """True when a sign has lasted long enough and no snapshot was asked for lately; it
        then counts as asked."""
        signs = [t for t in (self._crossed_since_ns, self._mismatch_since_ns) if t is not None]
        if not signs or now_ns - min(signs) < self.tolerance_ns:
            return False
        asked = self._asked_ns
        if asked is not None:
            if now_ns - asked < self._interval_ns:
                return False
            if now_ns - asked < 2 * self._interval_ns:  # back right after the last snapshot
                self._interval_ns = min(2 * self._interval_ns, self.max_retry_ns)
            else:
                self._interval_ns = self.retry_ns
        self._asked_ns = now_ns
        return True


def _prices(top: TopOfBook) -> tuple[int | None, int | None]:
    return (
        None if top.bid is None else top.bid.price_ticks,
        None if top.ask is None else top.ask.price_ticks,
    )
