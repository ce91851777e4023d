"""`FeedView`: the market as the receiver of a feed sees it, sampled at chosen times.

A bot sees each market event at its local (receive) time. The view replays one instrument's
events on that clock through the same book kernel as the matching engine (no copy of the book
logic), without orders, and records the top of book and the reference prices at each time
asked for, in one compiled pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from thalex_trio.sim.engine import kernel as k
from thalex_trio.sim.engine.book import BookState

if TYPE_CHECKING:
    from thalex_trio.sim.events import Events

NO_BID_TICKS = k.NO_BID
"""`FeedSamples.bid_ticks` where the bid side is empty."""
NO_ASK_TICKS = k.NO_ASK
"""`FeedSamples.ask_ticks` where the ask side is empty."""


@frozen
class FeedSamples:
    """The view at each sampled time (arrays of one length; prices in ticks, sizes in lots).

    `last_event_ns` is the local time of the last event applied by then (0 before any); mark,
    index and funding rate are NaN until first seen.
    """

    bid_ticks: NDArray[np.int64]
    bid_lots: NDArray[np.int64]
    ask_ticks: NDArray[np.int64]
    ask_lots: NDArray[np.int64]
    last_event_ns: NDArray[np.int64]
    mark: NDArray[np.float64]
    index: NDArray[np.float64]
    funding_rate: NDArray[np.float64]


class FeedView:
    """One instrument's displayed book on the events' local clock (see the module docstring)."""

    def __init__(self, book_window_ticks: int) -> None:
        self._book = BookState(book_window_ticks, 1, local_clock=True)

    def feed(self, events: Events) -> None:
        """Queue events (in local-time order, after what was fed)."""
        self._book.ensure_placed(events)
        if events.shape[0]:
            self._book.pending.append((events, 0))

    def sample(self, times_ns: NDArray[np.int64]) -> FeedSamples:
        """Apply the events up to each of the increasing `times_ns` in turn, recording the view.

        Every time must be before the local time of some event fed: a later event could still
        belong before it.
        """
        times = np.ascontiguousarray(times_ns, dtype=np.int64)
        top, ref, reached = self._book.sample(times)
        if reached < times.shape[0]:
            raise ValueError(f"sample time {int(times[reached])} is not before the last event fed")
        return FeedSamples(
            bid_ticks=top[:, k.TOP_BID_TICKS],
            bid_lots=top[:, k.TOP_BID_LOTS],
            ask_ticks=top[:, k.TOP_ASK_TICKS],
            ask_lots=top[:, k.TOP_ASK_LOTS],
            last_event_ns=top[:, k.TOP_LAST_TS],
            mark=ref[:, k.FST_MARK],
            index=ref[:, k.FST_INDEX],
            funding_rate=ref[:, k.FST_FUNDING_RATE],
        )

    def stats(self) -> dict[str, int]:
        """Kernel counters: events applied, crossed messages, levels outside the window."""
        st = self._book.st
        return {
            "events": int(st[k.ST_EVENTS]),
            "crossed": int(st[k.ST_CROSSED]),
            "out_of_window": int(st[k.ST_OUT_OF_WINDOW]),
        }
