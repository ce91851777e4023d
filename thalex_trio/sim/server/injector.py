"""Seeded decisions for a `FaultPlan`: per-message coin flips and the next time a timed fault
fires. Each fault kind draws from its own random stream, so adding one fault to a plan does not
change when the others happen."""

from __future__ import annotations

import collections
import random
from typing import assert_never

from thalex_trio.sim.server.faults import At, Chance, Every, FaultPlan, Rate, ScopedChance, When


class FaultInjector:
    """The plan, its random streams, and a count of every fault injected (by kind)."""

    def __init__(self, plan: FaultPlan, seed: int) -> None:
        self.plan = plan
        self._seed = seed
        self._streams: dict[str, random.Random] = {}
        self.injected: collections.Counter[str] = collections.Counter()
        """How many times each fault kind happened."""
        self.burst_left = 0
        """Matching-engine requests still to throttle from the last throttle burst."""

    def _stream(self, kind: str) -> random.Random:
        stream = self._streams.get(kind)
        if stream is None:
            stream = self._streams[kind] = random.Random(f"{self._seed}:{kind}")
        return stream

    def flip(self, kind: str, p: float) -> bool:
        """True with probability `p`, from `kind`'s stream; counts a hit."""
        if p <= 0.0:
            return False
        hit = self._stream(kind).random() < p
        if hit:
            self.injected[kind] += 1
        return hit

    def chance(self, kind: str, value: Chance | object | None) -> bool:
        """A per-message fault configured as a `Chance`: does it hit this message?"""
        return isinstance(value, Chance) and self.flip(kind, value.p)

    def drops_notification(self, *, private: bool) -> bool:
        """The `drop_notification` fault: is this notification (of a private channel or not)
        lost?"""
        value = self.plan.drop_notification
        if isinstance(value, ScopedChance):
            if (value.scope == "private") != private:
                return False
            return self.flip("drop_notification", value.p)
        return self.chance("drop_notification", value)

    def next_fire_s(self, kind: str, when: When, previous_s: float | None) -> float | None:
        """Seconds after start of the next firing after `previous_s` (None: never again)."""
        match when:
            case At():
                return when.after_s if previous_s is None else None
            case Every():
                return (previous_s or 0.0) + when.period_s
            case Rate():
                return (previous_s or 0.0) + self._stream(kind).expovariate(when.per_s)
            case _:
                assert_never(when)
