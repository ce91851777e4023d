"""The normalised market event layout shared by the matching engine, the market sources and the
backtest: one structured numpy record per book level change, trade print or reference value.

Fields (one record, 48 bytes, C-aligned):

| field | dtype | meaning |
|---|---|---|
| `kind` | u1 | one of the `*_EVENT` constants below |
| `side` | i1 | +1 bid / buyer-aggressor, -1 ask / seller-aggressor, 0 both or not applicable |
| `flags` | u2 | bit set of `*_FLAG` constants |
| `exch_ts_ns` | i8 | exchange time of the event (the engine's clock); non-decreasing in a stream |
| `local_ts_ns` | i8 | when the bot would receive it (exchange time + feed latency) |
| `price_ticks` | i8 | price in integer ticks of the instrument (0 for reference events) |
| `amount_lots` | i8 | absolute displayed size of the level (0 removes it), or the traded lots |
| `value` | f8 | reference events only: mark or index price (quote currency), or funding rate |

A stream belongs to one instrument; the engine takes one stream per instrument. Depth events
carry the new absolute size of a level (not a difference), like Thalex's and Binance's deltas.
A snapshot is a `DEPTH_CLEAR_EVENT` followed by `DEPTH_SNAPSHOT_EVENT` levels. One exchange
message (a diff or a snapshot) may span many records; its last record carries
`END_OF_MESSAGE_FLAG`, the only point at which the book is required to be uncrossed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

EVENT_DTYPE = np.dtype(
    [
        ("kind", np.uint8),
        ("side", np.int8),
        ("flags", np.uint16),
        ("exch_ts_ns", np.int64),
        ("local_ts_ns", np.int64),
        ("price_ticks", np.int64),
        ("amount_lots", np.int64),
        ("value", np.float64),
    ],
    align=True,
)
"""The record dtype of every market event array."""

Events = npt.NDArray[np.void]
"""An array of `EVENT_DTYPE` records."""

DEPTH_EVENT = 1
"""A level delta: set the level at (side, price_ticks) to amount_lots (0 removes it)."""
TRADE_EVENT = 2
"""A public trade of amount_lots at price_ticks; side is the aggressor (+1 buy, -1 sell)."""
DEPTH_CLEAR_EVENT = 3
"""Clear one side of the book (side +1/-1) or both (side 0); a snapshot follows."""
DEPTH_SNAPSHOT_EVENT = 4
"""A level of a snapshot; applied like `DEPTH_EVENT`."""
MARK_EVENT = 5
"""The mark price in `value`."""
INDEX_EVENT = 6
"""The index price in `value`."""
FUNDING_RATE_EVENT = 7
"""The current funding rate in `value`, per funding-rate period (see `EngineParams`)."""
MARKET_ORDER_EVENT = 8
"""A synthetic market's aggressive order, never published: side is the aggressor (+1 buy),
price_ticks the worst price it accepts. Before the market's own levels, whose prints follow as
`TRADE_EVENT`s, it takes whole every order of ours within that price and better than the
market's best (in the spread, where no queue is ahead of us). A recorded stream has none:
there, an aggressor's reach shows only in its prints."""

END_OF_MESSAGE_FLAG = 1
"""Last record of one exchange message: the book is consistent (uncrossed) after it."""


def empty_events(n: int) -> Events:
    """A zeroed event array of length `n`."""
    return np.zeros(n, dtype=EVENT_DTYPE)


EventRow = tuple[int, int, int, int, int, int, float]
"""One record as a tuple: kind, side, exch_ts_ns, local_ts_ns, price_ticks, amount_lots, value."""


def events_from_rows(rows: Sequence[EventRow], flags: Sequence[int]) -> Events:
    """An event array from row tuples and their flags (readers collect rows, then convert)."""
    out = empty_events(len(rows))
    if rows:
        kind, side, exch, local, price, lots, value = zip(*rows, strict=True)
        out["kind"] = kind
        out["side"] = side
        out["flags"] = flags
        out["exch_ts_ns"] = exch
        out["local_ts_ns"] = local
        out["price_ticks"] = price
        out["amount_lots"] = lots
        out["value"] = value
    return out


def concat_events(chunks: list[Events]) -> Events:
    """One array from a list of event chunks (an empty array for an empty list)."""
    if not chunks:
        return empty_events(0)
    return np.concatenate(chunks)
