"""Plain-Python references for the kernels: written from MODELS.md, independently of them.

The bounded GLFT reference uses an eigendecomposition (numpy.linalg.eigh) where the kernel
uses scaling and squaring, and the depth-count reference uses numpy.polyfit.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


def as_reservation(s: float, q: float, gamma: float, sigma: float, tau: float) -> float:
    return s - q * gamma * sigma**2 * tau


def as_spread(gamma: float, sigma: float, k: float, tau: float) -> float:
    return gamma * sigma**2 * tau + (2 / gamma) * math.log(1 + gamma / k)


def as_depths(q: float, gamma: float, sigma: float, k: float, tau: float) -> tuple[float, float]:
    base = (1 / gamma) * math.log(1 + gamma / k)
    bid = base + (1 + 2 * q) / 2 * gamma * sigma**2 * tau
    ask = base + (1 - 2 * q) / 2 * gamma * sigma**2 * tau
    return bid, ask


def glft_c(gamma: float, sigma: float, a: float, k: float) -> float:
    return math.sqrt(sigma**2 * gamma / (2 * k * a) * (1 + gamma / k) ** (1 + k / gamma))


def glft_depths(
    q: float, gamma: float, sigma: float, a: float, k: float, mu: float, xi: float
) -> tuple[float, float]:
    c = glft_c(gamma, sigma, a, k) * math.exp(k * xi / 4)
    base = (1 / gamma) * math.log(1 + gamma / k) + xi / 2
    drift = mu / (gamma * sigma**2) * c
    bid = base + (2 * q + 1) / 2 * c - drift
    ask = base - (2 * q - 1) / 2 * c + drift
    return bid, ask


def glft_bounded(
    big_q: int, gamma: float, sigma: float, a: float, k: float, tau: float
) -> tuple[list[float], list[float], float]:
    """Bid and ask depths per q, and min(v) / max(v): eigh resolves v only to ~1e-16 of its max."""
    size = 2 * big_q + 1
    m = np.zeros((size, size))
    eta = a * (1 + gamma / k) ** -(1 + k / gamma)
    for i in range(size):
        q = i - big_q
        m[i, i] = k / 2 * gamma * sigma**2 * q * q
        if i > 0:
            m[i, i - 1] = -eta
        if i < size - 1:
            m[i, i + 1] = -eta
    values, vectors = np.linalg.eigh(m)
    # exp(-M tau) 1 up to the common factor exp(-lambda_min tau), which cancels in the ratios.
    weights = np.exp(-(values - values.min()) * tau)
    v = vectors @ (weights * (vectors.T @ np.ones(size)))
    base = (1 / gamma) * math.log(1 + gamma / k)
    bid = [math.log(v[i] / v[i + 1]) / k + base if i < size - 1 else math.inf for i in range(size)]
    ask = [math.log(v[i] / v[i - 1]) / k + base if i > 0 else math.inf for i in range(size)]
    return bid, ask, float(v.min() / v.max())


def drift_and_sigma(samples: list[float], step_s: float) -> tuple[float, float]:
    n = len(samples)
    mean = sum(samples) / n
    var = sum((x - mean) ** 2 for x in samples) / (n - 1)
    return mean / step_s, math.sqrt(var / step_s)


def depth_count_fit(
    reach: NDArray[np.float64],
    steps: int,
    step_s: float,
    depths: NDArray[np.float64],
    min_count: int,
) -> tuple[float, float, int]:
    xs: list[float] = []
    ys: list[float] = []
    for depth in depths:
        count = int(np.sum(reach >= depth))
        if max(min_count, 1) <= count < steps:
            xs.append(float(depth))
            ys.append(math.log(-math.log(1 - count / steps) / step_s))
    if len(xs) < 2:
        return math.nan, math.nan, len(xs)
    slope, intercept = np.polyfit(xs, ys, 1)
    return math.exp(intercept), -float(slope), len(xs)


def mle_log_likelihood(
    a: float, k: float, depth: list[float], duration: list[float], fills: list[float]
) -> float:
    total = 0.0
    for d, dt, n in zip(depth, duration, fills, strict=True):
        rate = a * math.exp(-k * d) * dt
        total += (n * math.log(rate) if n else 0.0) - rate
    return total


def ladder_side(
    is_bid: bool,
    first: float,
    step: float,
    cap: int | None,
    size: float,
    growth: float,
    min_lots: int,
    room: int,
    levels: int,
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    previous = None if cap is None else (cap + 1 if is_bid else cap - 1)
    for level in range(levels):
        target = first + level * step
        if is_bid:
            price = math.floor(target + 1e-9)
            price = price if previous is None else min(price, previous - 1)
            if price <= 0:
                break
        else:
            price = math.ceil(target - 1e-9)
            price = price if previous is None else max(price, previous + 1)
        previous = price
        if size <= 0.0:
            break
        left = room - sum(x[1] for x in out)
        lots = min(max(int(size + 1e-9), min_lots), left)
        size *= growth
        if lots < min_lots:
            break
        out.append((price, lots))
    return out
