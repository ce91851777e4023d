"""Live market data as matching-engine events: one `BookUpdate` -> one exchange message.

A snapshot becomes `DEPTH_CLEAR` (both sides) plus `DEPTH_SNAPSHOT` levels; a delta becomes its
trade prints followed by its `DEPTH` level changes (the trades happened, then the book shows
what they left, as the simulator's own market source orders them). The last record carries
`END_OF_MESSAGE_FLAG`. Times never go below `floor_ns` and never decrease within the message,
because the engine takes a non-decreasing stream that starts at or after what it has applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thalex_trio.domain.enums import Side
from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    TRADE_EVENT,
    Events,
    empty_events,
)

if TYPE_CHECKING:
    from thalex_trio.domain.market import BookLevel, BookUpdate

_Row = tuple[int, int, int, int, int]  # kind, side, time ns, price ticks, lots


def events_from_book_update(update: BookUpdate, floor_ns: int) -> Events:
    """The engine records of one book message (empty when it changes nothing)."""
    rows: list[_Row] = []
    time_ns = max(update.time_ns, floor_ns)
    if update.is_snapshot:
        rows.append((DEPTH_CLEAR_EVENT, 0, time_ns, 0, 0))
        rows += _levels(DEPTH_SNAPSHOT_EVENT, 1, time_ns, update.bids)
        rows += _levels(DEPTH_SNAPSHOT_EVENT, -1, time_ns, update.asks)
    else:
        last_ns = floor_ns
        for trade in update.trades:
            # A print may carry its own (earlier) time; keep the stream non-decreasing.
            last_ns = max(trade.time_ns, last_ns)
            side = 1 if trade.aggressor is Side.BUY else -1
            rows.append((TRADE_EVENT, side, last_ns, trade.price_ticks, trade.amount_lots))
        time_ns = max(time_ns, last_ns)
        rows += _levels(DEPTH_EVENT, 1, time_ns, update.bids)
        rows += _levels(DEPTH_EVENT, -1, time_ns, update.asks)
    if not rows:
        return empty_events(0)
    out = empty_events(len(rows))
    columns = np.asarray(rows, dtype=np.int64)
    out["kind"] = columns[:, 0]
    out["side"] = columns[:, 1]
    out["exch_ts_ns"] = columns[:, 2]
    out["local_ts_ns"] = columns[:, 2]
    out["price_ticks"] = columns[:, 3]
    out["amount_lots"] = columns[:, 4]
    out["flags"][-1] = END_OF_MESSAGE_FLAG
    return out


def _levels(kind: int, side: int, time_ns: int, levels: tuple[BookLevel, ...]) -> list[_Row]:
    return [(kind, side, time_ns, lv.price_ticks, lv.amount_lots) for lv in levels]
