"""The quoter's resolved fair-value getter reads what `fair_value_ticks` returns, per source."""

from __future__ import annotations

import pytest

from thalex_trio.strategy.fair_value import fair_value_getter, fair_value_ticks
from thalex_trio.strategy.market_state import MarketState
from thalex_trio.strategy.params import FairValueSource

_STATES = (
    MarketState(),
    MarketState(100, 102, 3, 1, 101.5, 100.25, 99.75, 7),
    MarketState(100, None, 3, 0, None, 100.25, None, 7),
    MarketState(100, 101, 0, 0, None, None, 99.0, 7),
)


@pytest.mark.parametrize("source", list(FairValueSource))
def test_getter_agrees_with_fair_value_ticks(source: FairValueSource) -> None:
    getter = fair_value_getter(source)
    for state in _STATES:
        assert getter(state) == fair_value_ticks(source, state)
