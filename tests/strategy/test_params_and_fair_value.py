"""Parameter validation messages, and each fair value source."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from thalex_trio.strategy.fair_value import fair_value_ticks
from thalex_trio.strategy.market_state import MarketState
from thalex_trio.strategy.params import (
    EstimatorParams,
    FairValueSource,
    RegimeAdjustment,
    RegimeParams,
    SignalParams,
    StrategyParams,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def test_defaults_are_valid() -> None:
    StrategyParams()
    EstimatorParams()
    RegimeParams()
    SignalParams()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: StrategyParams(gamma_per_tick=-1.0), "gamma_per_tick must be > 0, got -1.0"),
        (lambda: StrategyParams(levels_per_side=0), "levels_per_side must be >= 1, got 0"),
        (lambda: StrategyParams(skew_multiplier=float("nan")), "skew_multiplier must be >= 0"),
        (
            lambda: StrategyParams(size_lots=10, position_limit_lots=5),
            "position_limit_lots must be >= size_lots",
        ),
        (lambda: EstimatorParams(fast_window_s=300.0), "fast_window_s must be <= mid_window_s"),
        (
            lambda: EstimatorParams(k_min_per_tick=5.0, k_max_per_tick=1.0),
            "k_min_per_tick must be <=",
        ),
        (lambda: RegimeAdjustment(gamma_multiplier=0.0), "gamma_multiplier must be > 0, got 0.0"),
        (lambda: SignalParams(options_tighten_ratio=2.0), "options_tighten_ratio must be <="),
    ],
)
def test_bad_values_name_the_field_and_the_value(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        make()


STATE = MarketState(
    best_bid_ticks=100,
    best_ask_ticks=104,
    best_bid_lots=30,
    best_ask_lots=10,
    mark_ticks=101.5,
    index_ticks=99.25,
    external_ticks=103.0,
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (FairValueSource.MID, 102.0),
        (FairValueSource.MICROPRICE, (100 * 10 + 104 * 30) / 40),  # leans to the thin ask
        (FairValueSource.MARK, 101.5),
        (FairValueSource.INDEX, 99.25),
        (FairValueSource.EXTERNAL, 103.0),
    ],
)
def test_fair_value_sources(source: FairValueSource, expected: float) -> None:
    assert fair_value_ticks(source, STATE) == pytest.approx(expected)


def test_missing_sources_give_none() -> None:
    one_sided = MarketState(best_bid_ticks=100)
    for source in FairValueSource:
        assert fair_value_ticks(source, one_sided) is None
