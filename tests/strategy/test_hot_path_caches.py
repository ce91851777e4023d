"""The hot-path caches change nothing: a reused builder and model give what fresh ones give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.kernels.glft import glft_half_spread_and_skew_ticks
from thalex_trio.strategy.estimators.market import IntensityFit
from thalex_trio.strategy.ladder import LadderBuilder
from thalex_trio.strategy.models import DepthModel
from thalex_trio.strategy.params import StrategyParams

from .test_ladder import build, spec

REUSED = LadderBuilder(spec(levels_per_side=4, size_growth_per_level=1.5), "X")


@given(
    st.lists(
        st.tuples(st.floats(990.0, 1010.0), st.floats(0.0, 6.0), st.floats(-3.0, 3.0)),
        min_size=1,
        max_size=20,
    )
)
def test_reused_ladder_builder_equals_a_fresh_one(
    steps: list[tuple[float, float, float]],
) -> None:
    for reservation, half, inventory in steps:
        fresh = LadderBuilder(spec(levels_per_side=4, size_growth_per_level=1.5), "X")
        assert build(REUSED, reservation=reservation, half=half, inventory=inventory) == build(
            fresh, reservation=reservation, half=half, inventory=inventory
        )


MODEL = DepthModel(StrategyParams(adverse_selection_ticks=0.5))


@given(
    st.floats(-5.0, 5.0),
    st.sampled_from([0.05, 0.1]),
    st.sampled_from([1.0, 20.5]),
    st.sampled_from([IntensityFit(2.0, 0.5), IntensityFit(4.3, 0.05)]),
    st.sampled_from([IntensityFit(2.0, 0.5), IntensityFit(1.1, 0.9)]),
    st.sampled_from([0.0, 0.3]),
)
def test_cached_glft_coefficients_give_the_kernel_values(
    q: float, gamma: float, sigma: float, bid: IntensityFit, ask: IntensityFit, drift: float
) -> None:
    got = MODEL.components(0.0, q, gamma, sigma, bid, ask, drift)
    half_b, skew_b = glft_half_spread_and_skew_ticks(
        q, gamma, sigma, bid.a_per_s, bid.k_per_tick, drift, 0.5
    )
    half_a, skew_a = glft_half_spread_and_skew_ticks(
        q, gamma, sigma, ask.a_per_s, ask.k_per_tick, drift, 0.5
    )
    assert got == (half_b, skew_b, half_a, skew_a)
