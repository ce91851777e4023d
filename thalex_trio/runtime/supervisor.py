"""The supervisor: the root nursery of a run, its stop conditions and its exit status.

SIGINT/SIGTERM and `--duration` stop the run gracefully (exit 0 once every order is
cancelled); a risk breach unwinds the tree (exit 11); a crash in any task unwinds it too
(exit 1, crash-only); a cleanup that left orders open exits 12 whatever the reason.
"""

from __future__ import annotations

import logging
import random
import signal
from typing import TYPE_CHECKING

import trio

from thalex_trio.runtime.context import RiskBreach
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.restart import run_with_restarts
from thalex_trio.runtime.status import run_status_line

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from thalex_trio.runtime.context import RunContext

_log = logging.getLogger(__name__)


async def run_supervised(
    ctx: RunContext,
    run_session: Callable[[], Awaitable[None]],
    *,
    duration_s: float | None = None,
    status_interval_s: float | None = None,
    handle_signals: bool = True,
    rng: random.Random | None = None,
) -> Outcome:
    """Run sessions (restarting retryable failures) until stopped; return the exit status."""
    failure: BaseException | None = None
    try:
        async with trio.open_nursery() as root:
            if handle_signals:
                await root.start(_watch_signals, ctx)
            if status_interval_s is not None:
                root.start_soon(run_status_line, ctx, status_interval_s)
            if duration_s is not None:
                root.start_soon(_stop_after, ctx, duration_s)
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
    return exit_code(ctx, failure)


def exit_code(ctx: RunContext, failure: BaseException | None) -> Outcome:
    """The process status for how the run ended."""
    if ctx.cleanup_complete is False:
        return Outcome.CLEANUP_INCOMPLETE
    if failure is None:
        return Outcome.OK
    breach = _find(failure, RiskBreach)
    if breach is not None:
        return Outcome.RISK_HALTED
    ctx.stop_reason = ctx.stop_reason or f"crash: {_describe(failure)}"
    _log.critical("crashed: %s", _describe(failure), exc_info=failure)
    return Outcome.CRASH


def _count_disconnect(ctx: RunContext) -> None:
    ctx.stats.disconnects += 1


def _find(exc: BaseException, kind: type[RiskBreach]) -> RiskBreach | None:
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


async def _watch_signals(ctx: RunContext, *, task_status: trio.TaskStatus[None]) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for signum in signals:
            ctx.stop(f"signal {signal.Signals(signum).name}")


async def _stop_after(ctx: RunContext, duration_s: float) -> None:
    await trio.sleep(duration_s)
    ctx.stop(f"duration of {duration_s:g} s reached")
