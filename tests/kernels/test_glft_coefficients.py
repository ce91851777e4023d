"""The split GLFT kernels: coefficients once, skew per call, bit for bit the seven-argument one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.kernels.dispatch import compiled_entry_point
from thalex_trio.kernels.glft import (
    glft_half_spread_and_skew_ticks,
    glft_quote_coefficients_ticks,
    glft_skew_ticks,
)

inventories = st.floats(-20.0, 20.0)
gammas = st.floats(0.001, 2.0)
sigmas = st.floats(0.0, 50.0)
intensities_a = st.floats(0.01, 500.0)
ks = st.floats(0.01, 5.0)


@given(inventories, gammas, sigmas, intensities_a, ks, st.floats(-5.0, 5.0), st.floats(0.0, 3.0))
def test_split_equals_seven_argument_kernel(
    q: float, gamma: float, sigma: float, a: float, k: float, mu: float, xi: float
) -> None:
    half, c, units = glft_quote_coefficients_ticks(gamma, sigma, a, k, mu, xi)
    assert (half, glft_skew_ticks(q, c, units)) == glft_half_spread_and_skew_ticks(
        q, gamma, sigma, a, k, mu, xi
    )


@given(inventories, gammas, sigmas, intensities_a, ks)
def test_entry_points_equal_the_dispatchers(
    q: float, gamma: float, sigma: float, a: float, k: float
) -> None:
    coefficients = compiled_entry_point(glft_quote_coefficients_ticks)
    skew = compiled_entry_point(glft_skew_ticks)
    expected = glft_quote_coefficients_ticks(gamma, sigma, a, k, 0.1, 0.2)
    assert coefficients(gamma, sigma, a, k, 0.1, 0.2) == expected
    assert skew(q, expected[1], expected[2]) == glft_skew_ticks(q, expected[1], expected[2])
