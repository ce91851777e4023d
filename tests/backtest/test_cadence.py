"""The decision cadence scan: the first grid point where the top-of-book key differs from the
last decision's, a trade was printed since it, or `max_idle` passed."""

from __future__ import annotations

import numpy as np

from thalex_trio.backtest.cadence import next_decision

STEP = 100
IDLE = 1_000


def _grid(keys: list[tuple[int, int, int, int]], trades: list[int]) -> tuple[np.ndarray, ...]:
    points = np.arange(len(keys), dtype=np.int64) * STEP + STEP
    return points, np.asarray(keys, dtype=np.int64), np.asarray(trades, dtype=np.int64)


def test_first_point_with_a_new_key_a_trade_or_idle() -> None:
    same = (10, 0, 12, 0)
    keys = [same] * 6 + [(10, 0, 13, 0)] + [same] * 20
    trades = [0] * 27
    points, k, t = _grid(keys, trades)
    last = np.asarray(same, dtype=np.int64)
    # The ask moved at index 6.
    assert next_decision(points, k, t, 0, last, 0, 50, IDLE) == 6
    # From index 7 on the key is the last one again; idle after 1000 ns from 650.
    assert next_decision(points, k, t, 7, np.asarray(keys[6]), 0, 650, IDLE) == 7
    idle_at = int(np.argmax(points >= 650 + IDLE))
    assert idle_at == 16  # the point at 1700
    assert next_decision(points, k, t, 7, last, 0, 650, IDLE) == idle_at
    # A trade printed by index 9 (the count goes past what was shown).
    t[9:] = 1
    assert next_decision(points, k, t, 7, last, 0, 650, IDLE) == 9
    assert next_decision(points, k, t, 7, last, 1, 650, IDLE) == idle_at  # shown already


def test_nothing_due_gives_the_end() -> None:
    points, k, t = _grid([(1, 0, 2, 0)] * 5, [3] * 5)
    last = np.asarray((1, 0, 2, 0), dtype=np.int64)
    assert next_decision(points, k, t, 0, last, 3, int(points[0]), IDLE) == 5
