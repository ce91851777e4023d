"""Gueant-Lehalle-Fernandez-Tapia (2013) quotes (MODELS.md §2).

Units as in `avellaneda_stoikov`: ticks, seconds, sigma in ticks/sqrt(s), gamma and k in 1/tick,
A in 1/s, drift in ticks/s, inventory in quote units. The closed form is the infinite-horizon
approximation; `glft_bounded_depths_ticks` is the exact solution with |q| <= Q.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from numpy.typing import NDArray


@njit("float64(float64, float64, float64, float64)", cache=True)
def glft_skew_coefficient_ticks(
    gamma_per_tick: float, sigma_ticks_per_sqrt_s: float, a_per_s: float, k_per_tick: float
) -> float:
    """C = sqrt(sigma^2 gamma / (2 k A) * (1 + gamma/k)^(1 + k/gamma)), in ticks per unit."""
    # (1 + x)^(1 + 1/x) through log1p stays accurate when gamma/k is tiny (it tends to e).
    growth = math.exp((1.0 + k_per_tick / gamma_per_tick) * math.log1p(gamma_per_tick / k_per_tick))
    variance = sigma_ticks_per_sqrt_s * sigma_ticks_per_sqrt_s
    return math.sqrt(variance * gamma_per_tick / (2.0 * k_per_tick * a_per_s) * growth)


@njit("UniTuple(float64, 3)(float64, float64, float64, float64, float64, float64)", cache=True)
def glft_quote_coefficients_ticks(
    gamma_per_tick: float,
    sigma_ticks_per_sqrt_s: float,
    a_per_s: float,
    k_per_tick: float,
    drift_ticks_per_s: float,
    adverse_selection_ticks: float,
) -> tuple[float, float, float]:
    """(half-spread, C', drift units): the inventory-independent part of the closed form.

    half = (1/gamma) ln(1 + gamma/k) + C'/2 + xi/2, C' = C exp(k xi / 4) and drift units =
    mu / (gamma sigma^2), so that skew = C' (q - drift units) (`glft_skew_ticks`). They change
    only with the parameters and estimates, so callers compute them once per change.
    """
    xi = adverse_selection_ticks
    c = glft_skew_coefficient_ticks(gamma_per_tick, sigma_ticks_per_sqrt_s, a_per_s, k_per_tick)
    c *= math.exp(k_per_tick * xi / 4.0)
    half = math.log1p(gamma_per_tick / k_per_tick) / gamma_per_tick + 0.5 * c + 0.5 * xi
    risk = gamma_per_tick * sigma_ticks_per_sqrt_s * sigma_ticks_per_sqrt_s
    # Without variance the drift term has no scale; the closed form is undefined there. So it
    # is with a variance too small to scale it (mu / (gamma sigma^2) overflows, and C' may
    # underflow to 0): 0 * inf would make the skew NaN.
    drift_units = drift_ticks_per_s / risk if risk > 0.0 else 0.0
    if not math.isfinite(drift_units):
        drift_units = 0.0
    return half, c, drift_units


@njit("float64(float64, float64, float64)", cache=True)
def glft_skew_ticks(inventory: float, skew_coefficient_ticks: float, drift_units: float) -> float:
    """skew = C' (q - drift units), from `glft_quote_coefficients_ticks`: the per-call part.

    Three floats in and one out keeps the dispatcher's per-argument cost down for callers that
    quote many inventories against one set of coefficients.
    """
    return skew_coefficient_ticks * (inventory - drift_units)


@njit(
    "UniTuple(float64, 2)(float64, float64, float64, float64, float64, float64, float64)",
    cache=True,
)
def glft_half_spread_and_skew_ticks(
    inventory: float,
    gamma_per_tick: float,
    sigma_ticks_per_sqrt_s: float,
    a_per_s: float,
    k_per_tick: float,
    drift_ticks_per_s: float,
    adverse_selection_ticks: float,
) -> tuple[float, float]:
    """(half-spread, skew) of the closed form with drift and adverse selection.

    delta_b = half + skew and delta_a = half - skew, where
    half = (1/gamma) ln(1 + gamma/k) + C'/2 + xi/2, skew = C' (q - mu / (gamma sigma^2)),
    C' = C exp(k xi / 4). With mu = xi = 0 this is exactly delta_b,a(q) of MODELS.md §2.
    """
    half, c, drift_units = glft_quote_coefficients_ticks(
        gamma_per_tick,
        sigma_ticks_per_sqrt_s,
        a_per_s,
        k_per_tick,
        drift_ticks_per_s,
        adverse_selection_ticks,
    )
    return half, glft_skew_ticks(inventory, c, drift_units)


@njit(cache=True)
def _matmul_into(
    left: NDArray[np.float64], right: NDArray[np.float64], out: NDArray[np.float64]
) -> None:
    size = left.shape[0]
    for i in range(size):
        for j in range(size):
            total = 0.0
            for m in range(size):
                total += left[i, m] * right[m, j]
            out[i, j] = total


@njit(cache=True)
def _normalise(matrix: NDArray[np.float64]) -> None:
    # Only ratios of v = exp(-M tau) 1 matter, so rescaling keeps long horizons from underflowing.
    largest = 0.0
    size = matrix.shape[0]
    for i in range(size):
        for j in range(size):
            largest = max(largest, abs(matrix[i, j]))
    if largest > 0.0:
        for i in range(size):
            for j in range(size):
                matrix[i, j] /= largest


@njit(
    "void(int64, float64, float64, float64, float64, float64, float64[:], float64[:])", cache=True
)
def glft_bounded_depths_ticks(
    max_inventory: int,
    gamma_per_tick: float,
    sigma_ticks_per_sqrt_s: float,
    a_per_s: float,
    k_per_tick: float,
    time_to_horizon_s: float,
    bid_depth_ticks: NDArray[np.float64],
    ask_depth_ticks: NDArray[np.float64],
) -> None:
    """Exact bounded-inventory depths for every q in [-Q, Q], written at index q + Q.

    v = exp(-M (T - t)) 1 with M tridiagonal: M_qq = (k/2) gamma sigma^2 q^2 and
    M_q,q+-1 = -A (1 + gamma/k)^-(1 + k/gamma); delta_b(q) = (1/k) ln(v_q / v_q+1) + (1/gamma)
    ln(1 + gamma/k) and delta_a(q) = (1/k) ln(v_q / v_q-1) + the same. There is no bid at q = Q
    and no ask at q = -Q: those entries are +inf. The exponential is by scaling and squaring of a
    Taylor series (no LAPACK needed), renormalised after every squaring.
    """
    size = 2 * max_inventory + 1
    alpha = 0.5 * k_per_tick * gamma_per_tick * sigma_ticks_per_sqrt_s * sigma_ticks_per_sqrt_s
    eta = a_per_s * math.exp(
        -(1.0 + k_per_tick / gamma_per_tick) * math.log1p(gamma_per_tick / k_per_tick)
    )
    generator = np.zeros((size, size))
    for i in range(size):
        q = i - max_inventory
        generator[i, i] = -alpha * q * q * time_to_horizon_s
        if i > 0:
            generator[i, i - 1] = eta * time_to_horizon_s
        if i < size - 1:
            generator[i, i + 1] = eta * time_to_horizon_s
    norm = 0.0
    for i in range(size):
        row = 0.0
        for j in range(size):
            row += abs(generator[i, j])
        norm = max(norm, row)
    squarings = 0
    while norm > 0.5:
        norm *= 0.5
        squarings += 1
    scale = 0.5**squarings
    for i in range(size):
        for j in range(size):
            generator[i, j] *= scale
    result = np.eye(size)
    term = np.eye(size)
    scratch = np.empty((size, size))
    for order in range(1, 20):
        _matmul_into(term, generator, scratch)
        for i in range(size):
            for j in range(size):
                term[i, j] = scratch[i, j] / order
                result[i, j] += term[i, j]
    for _ in range(squarings):
        _matmul_into(result, result, scratch)
        result[:, :] = scratch
        _normalise(result)
    values = np.empty(size)
    for i in range(size):
        values[i] = result[i].sum()
    base = math.log1p(gamma_per_tick / k_per_tick) / gamma_per_tick
    for i in range(size):
        if i < size - 1:
            bid_depth_ticks[i] = math.log(values[i] / values[i + 1]) / k_per_tick + base
        else:
            bid_depth_ticks[i] = math.inf
        if i > 0:
            ask_depth_ticks[i] = math.log(values[i] / values[i - 1]) / k_per_tick + base
        else:
            ask_depth_ticks[i] = math.inf
