"""Engine time from Trio time: the market runs at `speed` times the Trio clock, so a
`MockClock` drives the whole simulator in tests."""

from __future__ import annotations

import trio

NS_PER_S = 1_000_000_000


class SimClock:
    """Maps `trio.current_time()` to engine nanoseconds, starting at `origin_ns`."""

    def __init__(self, origin_ns: int, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.origin_ns = origin_ns
        self.speed = speed
        self.trio_origin_s = trio.current_time()

    def now_ns(self) -> int:
        """Engine time now."""
        return self.to_engine_ns(trio.current_time())

    def to_engine_ns(self, trio_s: float) -> int:
        """Engine time at Trio time `trio_s`."""
        return self.origin_ns + round((trio_s - self.trio_origin_s) * self.speed * NS_PER_S)

    def to_trio_s(self, engine_ns: int) -> float:
        """Trio time at which the engine reaches `engine_ns`."""
        return self.trio_origin_s + (engine_ns - self.origin_ns) / (self.speed * NS_PER_S)

    def elapsed_s(self) -> float:
        """Trio seconds since the clock started (fault schedules count from here)."""
        return trio.current_time() - self.trio_origin_s


def wire_time_s(engine_ns: int) -> float:
    """An engine time as the exchange's float seconds."""
    return engine_ns / NS_PER_S
