"""The restart policy around the session: which failures are retried, and how fast.

Transport faults and the exchange's reconnect notice are retried with exponential backoff and
full jitter, capped; anything else is a bug or a decision (risk breach, bad credentials) and
crashes the run with its message (crash-only).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, HandshakeError

from thalex_trio.thalex.errors import ReconnectRequested, SessionClosed

if TYPE_CHECKING:
    import random
    from collections.abc import Awaitable, Callable

_log = logging.getLogger(__name__)

RETRYABLE: tuple[type[BaseException], ...] = (
    SessionClosed,  # includes HeartbeatTimeout
    ReconnectRequested,
    ConnectionClosed,
    HandshakeError,
    trio.BrokenResourceError,
    OSError,  # connection refused or reset while the server restarts
)
"""Failures a new connection cures. `ConnectionRejected` is a HandshakeError, but an HTTP
refusal (bad path, banned) does not heal by retrying: see `is_retryable`."""

BACKOFF_BASE_S = 0.25
"""First retry delay (before jitter)."""

BACKOFF_CAP_S = 15.0
"""No retry waits longer than this."""

STABLE_SESSION_S = 30.0
"""A session that lasted this long resets the backoff: the next failure is a fresh one."""


def is_retryable(exc: BaseException) -> bool:
    """True when a new session may cure `exc` (every leaf of a group must be retryable)."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_retryable(e) for e in exc.exceptions)
    if isinstance(exc, ConnectionRejected):
        return False
    return isinstance(exc, RETRYABLE)


def backoff_s(attempt: int, rng: random.Random) -> float:
    """Delay before retry number `attempt` (1-based): full jitter under a capped exponential."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


async def run_with_restarts(
    run_session: Callable[[], Awaitable[None]],
    *,
    on_restart: Callable[[BaseException], None],
    stopping: Callable[[], bool],
    rng: random.Random,
) -> None:
    """Run `run_session` until it returns; retry retryable failures with backoff.

    `on_restart` hears of every retried failure (the risk watchdog counts disconnects); once
    `stopping()` is true a retryable failure ends the loop instead.
    """
    attempt = 0
    while True:
        started = trio.current_time()
        try:
            await run_session()
        except Exception as exc:  # a group holding Cancelled is a BaseException: not caught
            if not is_retryable(exc):
                raise
            failure: Exception = exc
        else:
            return
        if stopping():
            _log.info("session ended while stopping (%s)", _describe(failure))
            await trio.lowlevel.checkpoint()
            return
        if trio.current_time() - started >= STABLE_SESSION_S:
            attempt = 0
        attempt += 1
        delay = backoff_s(attempt, rng)
        _log.warning(
            "session ended (%s); reconnecting in %.2f s (attempt %d)",
            _describe(failure),
            delay,
            attempt,
        )
        on_restart(failure)
        await trio.sleep(delay)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"
