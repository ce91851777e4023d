"""Avellaneda-Stoikov (2008) finite-horizon quotes, exactly as in the paper (MODELS.md §1).

Units: prices and depths in ticks, time in seconds, sigma in ticks/sqrt(s), gamma and k in
1/tick, inventory in quote units (one unit = the quote size). Every kernel has an explicit
float64 signature: the dispatcher then converts ints instead of compiling new specialisations,
and the call from Python stays cheap.
"""

from __future__ import annotations

import math

from numba import njit


@njit("float64(float64, float64, float64, float64, float64)", cache=True)
def as_reservation_price_ticks(
    mid_ticks: float,
    inventory: float,
    gamma_per_tick: float,
    sigma_ticks_per_sqrt_s: float,
    time_to_horizon_s: float,
) -> float:
    """r = s - q gamma sigma^2 (T - t)."""
    variance = sigma_ticks_per_sqrt_s * sigma_ticks_per_sqrt_s
    return mid_ticks - inventory * gamma_per_tick * variance * time_to_horizon_s


@njit("float64(float64, float64, float64, float64)", cache=True)
def as_total_spread_ticks(
    gamma_per_tick: float,
    sigma_ticks_per_sqrt_s: float,
    k_per_tick: float,
    time_to_horizon_s: float,
) -> float:
    """delta_a + delta_b = gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)."""
    variance = sigma_ticks_per_sqrt_s * sigma_ticks_per_sqrt_s
    return gamma_per_tick * variance * time_to_horizon_s + (2.0 / gamma_per_tick) * math.log1p(
        gamma_per_tick / k_per_tick
    )


@njit("UniTuple(float64, 2)(float64, float64, float64, float64, float64)", cache=True)
def as_half_spread_and_skew_ticks(
    inventory: float,
    gamma_per_tick: float,
    sigma_ticks_per_sqrt_s: float,
    k_per_tick: float,
    time_to_horizon_s: float,
) -> tuple[float, float]:
    """(half-spread, skew) with delta_b = half + skew and delta_a = half - skew.

    From the paper: delta_b,a = (1/gamma) ln(1 + gamma/k) + ((1 +- 2q)/2) gamma sigma^2 (T - t),
    so half = (1/gamma) ln(1 + gamma/k) + gamma sigma^2 (T - t) / 2 and skew = q gamma sigma^2
    (T - t): the reservation price is mid - skew.
    """
    inventory_risk = gamma_per_tick * sigma_ticks_per_sqrt_s * sigma_ticks_per_sqrt_s
    inventory_risk *= time_to_horizon_s
    half = math.log1p(gamma_per_tick / k_per_tick) / gamma_per_tick + 0.5 * inventory_risk
    return half, inventory * inventory_risk
