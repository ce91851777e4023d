"""The supervisor: the root nursery of a run, its stop conditions and its exit status.

SIGINT/SIGTERM and `--duration` stop the run gracefully (exit 0 once every order is
cancelled); a risk breach unwinds the tree (exit 11 when it HALTED trading, 10 when its
trading state was REDUCING: see `RiskBreach`); a crash in any task unwinds it too (exit 1,
crash-only); a cleanup that left orders open exits 12 whatever the reason.
"""

from __future__ import annotations

import functools
import logging
import random
import signal
from typing import TYPE_CHECKING, TypeVar

import trio

from thalex_trio.risk.evaluator import TradingState
from thalex_trio.runtime.context import RiskBreach
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.restart import run_with_restarts
from thalex_trio.runtime.status import run_status_line
from thalex_trio.thalex.errors import AuthenticationFailed

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from thalex_trio.runtime.context import RunContext

_log = logging.getLogger(__name__)

E = TypeVar("E", bound=BaseException)

UPDATES_POLL_S = 0.05
"""How often the market update count is looked at (off the hot path, so polled)."""


async def run_supervised(
    ctx: RunContext,
    run_session: Callable[[], Awaitable[None]],
    *,
    duration_s: float | None = None,
    stop_after_market_updates: int | None = None,
    status_interval_s: float | None = None,
    handle_signals: bool = True,
    rng: random.Random | None = None,
) -> Outcome:
    """Run sessions (restarting retryable failures) until stopped; return the exit status.

    The root's own tasks (signal watcher, status line, timers) are guarded: a crash in one
    stops the run as a signal would (the live session cancels every order) and is the run's
    failure (exit 1), instead of cancelling the session's connection under its cleanup.
    """
    failure: Exception | None = None
    crashes: list[Exception] = []
    try:
        async with trio.open_nursery() as root:
            # Each task keeps its own name (the guard is a detail), for logs and tests.
            if handle_signals:
                await root.start(_guarded_signal_watcher, ctx, crashes, name=_watch_signals)
            if status_interval_s is not None:
                status = functools.partial(run_status_line, ctx, status_interval_s)
                root.start_soon(_guarded, ctx, crashes, status, name=run_status_line)
            if duration_s is not None:
                timer = functools.partial(_stop_after, ctx, duration_s)
                root.start_soon(_guarded, ctx, crashes, timer, name=_stop_after)
            if stop_after_market_updates is not None:
                counter = functools.partial(_stop_after_updates, ctx, stop_after_market_updates)
                root.start_soon(_guarded, ctx, crashes, counter, name=_stop_after_updates)
            with trio.CancelScope() as run_scope:
                ctx.set_run_scope(run_scope)
                try:
                    await run_with_restarts(
                        run_session,
                        on_restart=lambda _exc: _count_disconnect(ctx),
                        stopping=lambda: ctx.stop_reason is not None,
                        rng=rng or random.Random(),
                    )
                finally:
                    ctx.set_run_scope(None)
            root.cancel_scope.cancel()
    except Exception as exc:  # mapped to an exit status below: crash-only, never swallowed
        failure = exc
        await trio.lowlevel.checkpoint()
    if crashes:
        failure = ExceptionGroup("root tasks", [*crashes, *([failure] if failure else [])])
    return exit_code(ctx, failure)


async def _guarded(
    ctx: RunContext, crashes: list[Exception], task: Callable[[], Awaitable[None]]
) -> None:
    """Run a root task; a crash is recorded and stops the run."""
    try:
        await task()
    except Exception as exc:  # crash-only: recorded, the run stops; never swallowed
        _crashed(ctx, crashes, exc)
        await trio.lowlevel.checkpoint()


async def _guarded_signal_watcher(
    ctx: RunContext, crashes: list[Exception], *, task_status: trio.TaskStatus[None]
) -> None:
    """The signal watcher, guarded like `_guarded`; started once SIGINT and SIGTERM are
    caught, before the first session connects."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        await _guarded(ctx, crashes, functools.partial(_watch_signals, ctx, signals))


def _crashed(ctx: RunContext, crashes: list[Exception], exc: Exception) -> None:
    crashes.append(exc)
    ctx.stop(f"crash: {_describe(exc)}")


def exit_code(ctx: RunContext, failure: BaseException | None) -> Outcome:
    """The process status for how the run ended."""
    if ctx.cleanup_complete is False:
        return Outcome.CLEANUP_INCOMPLETE
    if failure is None:
        return Outcome.OK
    breach = _find(failure, RiskBreach)
    if breach is not None:
        if breach.trading_state is TradingState.REDUCING:
            return Outcome.RISK_REDUCING
        return Outcome.RISK_HALTED
    refused = _find(failure, AuthenticationFailed)
    if refused is not None:
        # Bad credentials the exchange alone can judge (an unknown key id, a key that does not
        # match it): a usage error like a key that does not parse, not a crash.
        ctx.stop_reason = (
            f"credentials: authentication failed, the exchange refused the login: {refused}"
        )
        _log.error("%s", ctx.stop_reason)
        return Outcome.USAGE
    ctx.stop_reason = ctx.stop_reason or f"crash: {_describe(failure)}"
    _log.critical("crashed: %s", _describe(failure), exc_info=failure)
    return Outcome.CRASH


def _count_disconnect(ctx: RunContext) -> None:
    ctx.stats.disconnects += 1


def _find(exc: BaseException, kind: type[E]) -> E | None:
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kind)
            if found is not None:
                return found
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


async def _watch_signals(ctx: RunContext, signals: AsyncIterator[int]) -> None:
    async for signum in signals:
        ctx.stop(f"signal {signal.Signals(signum).name}")


async def _stop_after(ctx: RunContext, duration_s: float) -> None:
    await trio.sleep(duration_s)
    ctx.stop(f"duration of {duration_s:g} s reached")


async def _stop_after_updates(ctx: RunContext, updates: int) -> None:
    await trio.sleep(UPDATES_POLL_S)
    while ctx.stats.market_updates < updates:  # noqa: ASYNC110  # a counter, not an event
        await trio.sleep(UPDATES_POLL_S)
    ctx.stop(f"{updates} market updates reached")
