"""Token buckets that mirror the exchange's message rates (API.md §4.1), pure: time comes in.

Two lanes with their own buckets, so a cancel never waits behind inserts:
- matching-engine requests (insert, amend, mass quote, ...): 10 per second per connection,
  50 once cancel-on-disconnect is on (the `message_rate` that call returns);
- cancels: 1000 per second.
"The message rate limit is both the burst limit and the sustained frequency limit", so each
bucket holds one second's worth of tokens and refills at the rate. After a throttle reply
(code 4) the lane is closed for a backoff that doubles on each throttle in a row, instead of
retrying into a storm; a success resets it. Throttle replies that arrive while the lane is
already closed answer requests sent before it closed: they are the same burst and do not
double the pause again.
"""

from __future__ import annotations

import enum

ENGINE_RATE_PER_S = 10
"""Matching-engine messages per second on a persistent session."""

NON_PERSISTENT_ENGINE_RATE_PER_S = 50
"""Matching-engine messages per second after `private/set_cancel_on_disconnect`."""

CANCEL_RATE_PER_S = 1000
"""Cancel requests per second."""

THROTTLE_BACKOFF_INITIAL_S = 1.0
"""Pause of a lane after its first throttle reply."""

THROTTLE_BACKOFF_MAX_S = 4.0
"""Longest pause after repeated throttle replies. Short, because a paused engine lane leaves
our resting quotes where they are while the market moves (cancels have their own lane); the
exchange's own throttle lasts "some time" after a rate that our buckets already respect."""

TOKEN_EPSILON = 1e-9
"""A bucket this close below a whole token counts as holding one. The refill is a float sum,
so a bucket that is due exactly now can hold 0.999...9 tokens; the wait that leaves is far
below the resolution of the clock, and a virtual (Mock) clock never gets past it."""

MIN_WAIT_S = 1e-6
"""Shortest wait `try_take` asks for. Waits are rounded up to it so that `now + wait` is a
later float than `now` for any clock below ~10^9 s (the epsilon alone is not enough once the
clock's own resolution is coarser than the deficit); a microsecond is invisible next to the
exchange's 20-100 ms spacing."""


class Lane(enum.Enum):
    """Which exchange limit a request counts against."""

    ENGINE = "engine"
    CANCEL = "cancel"
    UNLIMITED = "unlimited"


_ENGINE_METHODS = frozenset(
    {
        "private/insert",
        "private/buy",
        "private/sell",
        "private/amend",
        "private/mass_quote",
        "private/set_mm_protection",
    }
)
_CANCEL_METHODS = frozenset(
    {
        "private/cancel",
        "private/cancel_all",
        "private/cancel_session",
        "private/cancel_mass_quote",
    }
)


def lane_of(method: str) -> Lane:
    """The lane a JSON-RPC method counts against; queries and subscriptions are unlimited."""
    if method in _ENGINE_METHODS:
        return Lane.ENGINE
    if method in _CANCEL_METHODS:
        return Lane.CANCEL
    return Lane.UNLIMITED


class TokenBucket:
    """`capacity` tokens, refilled continuously at `rate_per_s`; one token per message."""

    def __init__(self, rate_per_s: float, now_s: float) -> None:
        self.rate_per_s = rate_per_s
        self.capacity = rate_per_s
        self.tokens = rate_per_s
        self._updated_s = now_s

    def _refill(self, now_s: float) -> None:
        elapsed = max(now_s - self._updated_s, 0.0)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate_per_s)
        self._updated_s = max(now_s, self._updated_s)

    def try_take(self, now_s: float) -> float:
        """Take a token: 0.0 when taken, else the seconds until one is due (nothing taken)."""
        self._refill(now_s)
        if self.tokens >= 1.0 - TOKEN_EPSILON:
            self.tokens = max(self.tokens - 1.0, 0.0)
            return 0.0
        return max((1.0 - self.tokens) / self.rate_per_s, MIN_WAIT_S)

    def set_rate(self, rate_per_s: float, now_s: float) -> None:
        """Change rate and capacity (cancel-on-disconnect raises the engine rate)."""
        self._refill(now_s)
        self.rate_per_s = rate_per_s
        self.capacity = rate_per_s
        self.tokens = min(self.tokens, self.capacity)

    def drain(self, now_s: float) -> None:
        """Empty the bucket: the exchange says we are over the limit."""
        self._refill(now_s)
        self.tokens = 0.0


class RateLimiter:
    """Per-connection limiter: ask `reserve` before sending, report throttles and successes."""

    def __init__(self, now_s: float) -> None:
        self._buckets = {
            Lane.ENGINE: TokenBucket(ENGINE_RATE_PER_S, now_s),
            Lane.CANCEL: TokenBucket(CANCEL_RATE_PER_S, now_s),
        }
        self._blocked_until_s = {Lane.ENGINE: now_s, Lane.CANCEL: now_s}
        self._backoff_s = {Lane.ENGINE: 0.0, Lane.CANCEL: 0.0}

    def engine_rate(self) -> float:
        """Current matching-engine messages per second."""
        return self._buckets[Lane.ENGINE].rate_per_s

    def set_engine_rate(self, message_rate: int, now_s: float) -> None:
        """Adopt the rate `private/set_cancel_on_disconnect` returned."""
        self._buckets[Lane.ENGINE].set_rate(message_rate, now_s)

    def reserve(self, lane: Lane, now_s: float) -> float:
        """0.0 if a message on `lane` may go now (and count it); else seconds to wait first."""
        if lane is Lane.UNLIMITED:
            return 0.0
        blocked_s = self._blocked_until_s[lane] - now_s
        if blocked_s > 0:
            return blocked_s
        return self._buckets[lane].try_take(now_s)

    def paused_s(self, lane: Lane, now_s: float) -> float:
        """Seconds `lane` stays closed after a throttle reply (0.0 when open); takes no token."""
        if lane is Lane.UNLIMITED:
            return 0.0
        return max(0.0, self._blocked_until_s[lane] - now_s)

    def on_throttled(self, lane: Lane, now_s: float) -> float:
        """The exchange replied code 4: close the lane for the backoff, which is returned."""
        if lane is Lane.UNLIMITED:
            return 0.0
        paused_s = self._blocked_until_s[lane] - now_s
        if paused_s > 0:
            return paused_s  # a reply to a request sent before the lane closed: same burst
        backoff = self._backoff_s[lane]
        backoff = THROTTLE_BACKOFF_INITIAL_S if backoff == 0 else backoff * 2
        backoff = min(backoff, THROTTLE_BACKOFF_MAX_S)
        self._backoff_s[lane] = backoff
        self._blocked_until_s[lane] = max(self._blocked_until_s[lane], now_s + backoff)
        self._buckets[lane].drain(now_s)
        return backoff

    def on_success(self, lane: Lane) -> None:
        """A request on `lane` went through: the next throttle starts from the first backoff."""
        if lane is not Lane.UNLIMITED:
            self._backoff_s[lane] = 0.0
