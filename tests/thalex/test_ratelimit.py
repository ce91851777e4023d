"""The limiter mirrors the exchange's rates and backs off on throttles (pure, time passed in)."""

from __future__ import annotations

import pytest

from thalex_trio.thalex.ratelimit import (
    ENGINE_RATE_PER_S,
    NON_PERSISTENT_ENGINE_RATE_PER_S,
    THROTTLE_BACKOFF_INITIAL_S,
    THROTTLE_BACKOFF_MAX_S,
    Lane,
    RateLimiter,
    TokenBucket,
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
    # Each throttle after the lane reopened doubles the pause, up to the cap.
    now_s, backoffs = 3.0, []
    for _ in range(10):
        backoffs.append(limiter.on_throttled(Lane.ENGINE, now_s))
        now_s += backoffs[-1]
    doubling = [4 * THROTTLE_BACKOFF_INITIAL_S * 2**i for i in range(10)]
    assert backoffs == [min(b, THROTTLE_BACKOFF_MAX_S) for b in doubling]
    assert backoffs[-1] == THROTTLE_BACKOFF_MAX_S
    limiter.on_success(Lane.ENGINE)
    assert limiter.on_throttled(Lane.ENGINE, now_s) == THROTTLE_BACKOFF_INITIAL_S
    # After the pause the bucket starts empty-then-refilled, not with a backlog burst.
    assert limiter.reserve(Lane.ENGINE, now_s + THROTTLE_BACKOFF_INITIAL_S) == 0


def test_throttles_of_one_burst_pause_the_lane_once() -> None:
    """Replies to requests sent before the lane closed arrive while it is closed: they are the
    same burst, so the pause neither doubles nor moves (a burst of four once meant 8 s)."""
    limiter = RateLimiter(0.0)
    assert limiter.on_throttled(Lane.ENGINE, 10.0) == THROTTLE_BACKOFF_INITIAL_S
    assert [limiter.on_throttled(Lane.ENGINE, 10.001) for _ in range(3)] == pytest.approx(
        [THROTTLE_BACKOFF_INITIAL_S - 0.001] * 3
    )
    assert limiter.paused_s(Lane.ENGINE, 10.5) == pytest.approx(0.5)
    assert limiter.paused_s(Lane.ENGINE, 11.5) == 0.0
    assert limiter.paused_s(Lane.CANCEL, 10.5) == 0.0


@pytest.mark.parametrize("start_s", [0.0, 1.3, 7.7, 100.1, 12_345.678, 1_000_000.25])
@pytest.mark.parametrize("rate_per_s", [ENGINE_RATE_PER_S, NON_PERSISTENT_ENGINE_RATE_PER_S, 1000])
def test_a_wait_always_moves_the_clock_forward(start_s: float, rate_per_s: int) -> None:
    """Sleeping exactly the wait asked for (as a virtual clock does) always ends in a token.

    The refill is a float sum: a bucket due exactly now could hold 0.9999999999999998 tokens
    and ask for a wait of ~1e-17 s, which `now + wait` rounds away, so a sender on a MockClock
    spun forever.
    """
    bucket = TokenBucket(rate_per_s, start_s)
    bucket.drain(start_s)
    now_s = start_s
    for _ in range(3 * rate_per_s):
        waits = 0
        while (wait_s := bucket.try_take(now_s)) > 0:
            assert now_s + wait_s > now_s
            now_s += wait_s
            waits += 1
            assert waits <= 2  # one wait, plus at most one rounding remainder
    assert now_s - start_s == pytest.approx(3.0, abs=1e-3)
