"""The decision cadence of the backtest: at which points of the requote grid the strategy
decides, found in one compiled scan instead of a Python step per grid point.

A grid point needs a decision when something the strategy acts on changed since its last
decision: the top-of-book key (best prices, plus sizes when they matter), a trade printed, or
`max_idle` passed. Our own reports force decisions too; the driver finds those from the
engine's report times.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

I64 = npt.NDArray[np.int64]

KEY_COLUMNS = 4
"""Columns of a top-of-book key: bid ticks, bid lots, ask ticks, ask lots."""


@njit(cache=True)
def next_decision(
    points_ns: I64,
    keys: I64,
    trades_upto: I64,
    start: int,
    last_key: I64,
    trades_shown: int,
    last_decision_ns: int,
    idle_ns: int,
) -> int:
    """The first index from `start` at which the strategy must decide, else len(points_ns).

    `keys[p]` is the top-of-book key at `points_ns[p]`, `trades_upto[p]` how many trades were
    printed by then; `last_key` and `trades_shown` are what the last decision saw.
    """
    n: int = points_ns.shape[0]
    for p in range(start, n):
        if trades_upto[p] > trades_shown or points_ns[p] - last_decision_ns >= idle_ns:
            return p
        for c in range(KEY_COLUMNS):
            if keys[p, c] != last_key[c]:
                return p
    return n
