"""Seeded latency sampling: constant or lognormal, deterministic for a seed."""

from __future__ import annotations

import math
from typing import assert_never

import numpy as np

from thalex_trio.sim.engine.params import Latency, LatencyKind


class LatencySampler:
    """Draws latencies in ns from one `Latency`; one generator per sampler, so the entry and
    response streams stay reproducible independently of each other."""

    def __init__(self, latency: Latency, seed: int, stream: int) -> None:
        self._latency = latency
        self._rng = np.random.default_rng([seed, stream])
        # Every request and report samples a latency: a constant one is worked out once.
        self._constant: int | None = None
        if latency.kind is LatencyKind.CONSTANT:
            self._constant = max(int(latency.median_ns), latency.floor_ns)

    def sample_ns(self) -> int:
        """One latency in ns."""
        constant = self._constant
        if constant is not None:
            return constant
        lat = self._latency
        match lat.kind:
            case LatencyKind.CONSTANT:
                value = lat.median_ns
            case LatencyKind.LOGNORMAL:
                median = max(lat.median_ns, 1)
                value = round(math.exp(math.log(median) + lat.sigma * self._rng.standard_normal()))
            case _:
                assert_never(lat.kind)
        return max(int(value), lat.floor_ns)
