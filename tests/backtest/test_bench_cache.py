"""The backtest benchmark's conversion cache keeps the rate of the conversion that made it, so
a run served from the cache reports that rate instead of 0."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thalex_trio.bench import backtest as bench

from .conftest import GOLDEN_FILE

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_a_cached_stream_keeps_its_conversion_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "CACHE_DIR", tmp_path)
    path, events, seconds, cached = bench.cached_events([GOLDEN_FILE], 0.1, 0.001)
    assert not cached
    assert events == 78488
    assert seconds > 0
    again, events_again, seconds_again, cached_again = bench.cached_events(
        [GOLDEN_FILE], 0.1, 0.001
    )
    assert cached_again
    assert (again, events_again, seconds_again) == (path, events, seconds)
    assert int(np.load(again).shape[0]) == events
    # The key is the content, not the name: a copy elsewhere hits the same entry.
    copy = tmp_path / GOLDEN_FILE.name
    copy.write_bytes(GOLDEN_FILE.read_bytes())
    assert bench.cached_events([copy], 0.1, 0.001)[0] == path
