"""The limiter mirrors the exchange's rates and backs off on throttles (pure, time passed in)."""

from __future__ import annotations

import pytest

from thalex_trio.thalex.ratelimit import (
    THROTTLE_BACKOFF_INITIAL_S,
    THROTTLE_BACKOFF_MAX_S,
    Lane,
    RateLimiter,
    lane_of,
)


def burst(limiter: RateLimiter, lane: Lane, now_s: float) -> int:
    sent = 0
    while limiter.reserve(lane, now_s) == 0:
        sent += 1
    return sent


def test_lanes() -> None:
    assert lane_of("private/insert") is Lane.ENGINE
    assert lane_of("private/amend") is Lane.ENGINE
    assert lane_of("private/mass_quote") is Lane.ENGINE
    assert lane_of("private/cancel") is Lane.CANCEL
    assert lane_of("private/cancel_session") is Lane.CANCEL
    assert lane_of("public/ticker") is Lane.UNLIMITED


def test_engine_lane_is_ten_per_second_then_fifty_after_cancel_on_disconnect() -> None:
    limiter = RateLimiter(0.0)
    assert burst(limiter, Lane.ENGINE, 0.0) == 10
    wait_s = limiter.reserve(Lane.ENGINE, 0.0)
    assert wait_s == pytest.approx(0.1)
    assert burst(limiter, Lane.ENGINE, 1.0) == 10  # refilled, never above one second's worth
    limiter.set_engine_rate(50, 1.0)
    assert burst(limiter, Lane.ENGINE, 2.0) == 50


def test_cancels_never_wait_behind_inserts() -> None:
    limiter = RateLimiter(0.0)
    burst(limiter, Lane.ENGINE, 0.0)
    assert limiter.reserve(Lane.ENGINE, 0.0) > 0
    assert burst(limiter, Lane.CANCEL, 0.0) == 1000


def test_throttle_closes_the_lane_with_doubling_backoff_reset_by_success() -> None:
    limiter = RateLimiter(0.0)
    assert limiter.on_throttled(Lane.ENGINE, 0.0) == THROTTLE_BACKOFF_INITIAL_S
    assert limiter.reserve(Lane.ENGINE, 0.5) == pytest.approx(0.5)
    assert limiter.reserve(Lane.CANCEL, 0.5) == 0  # the other lane is unaffected
    assert limiter.on_throttled(Lane.ENGINE, 1.0) == 2 * THROTTLE_BACKOFF_INITIAL_S
    backoffs = [limiter.on_throttled(Lane.ENGINE, 3.0) for _ in range(10)]
    assert max(backoffs) == THROTTLE_BACKOFF_MAX_S
    limiter.on_success(Lane.ENGINE)
    assert limiter.on_throttled(Lane.ENGINE, 100.0) == THROTTLE_BACKOFF_INITIAL_S
    # After the pause the bucket starts empty-then-refilled, not with a backlog burst.
    assert limiter.reserve(Lane.ENGINE, 100.0 + THROTTLE_BACKOFF_INITIAL_S) == 0
