"""The persistence tap: periodic records of what is not an event by itself: the quote loop's
newest ladder (sampled) and the position valued at the mark. Events (orders, fills, market
data, risk) are emitted where they happen; `EventSink.emit` never blocks, and the store writer
batches them in its own task."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import trio

from thalex_trio.domain.events import PositionSnapshot

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext, Trading

POSITION_SNAPSHOT_PERIOD_S = 1.0
"""How often the valued position is recorded."""


async def run_persistence_tap(ctx: RunContext, trading: Trading) -> None:
    """Record the newest desired ladder every `ctx.quote_sample_interval_s` (when it changed;
    never when that is 0) and the position at the mark every `POSITION_SNAPSHOT_PERIOD_S`,
    until cancelled.

    The quote loop decides on every market update; recording each decision from the loop
    would put the store's work on the tick's path, and a ladder is reproducible from the
    market data, so decisions are sampled here instead."""
    quote_period_s = ctx.quote_sample_interval_s
    start_s = trio.current_time()
    next_quote_s = start_s + quote_period_s if quote_period_s > 0 else math.inf
    next_position_s = start_s + POSITION_SNAPSHOT_PERIOD_S
    recorded_version = 0
    while True:
        await trio.sleep_until(min(next_quote_s, next_position_s))
        now_s = trio.current_time()
        if now_s >= next_quote_s:
            recorded_version = _record_ladder(ctx, trading, recorded_version)
            next_quote_s = _next_due(next_quote_s, quote_period_s, now_s)
        if now_s >= next_position_s:
            _record_position(ctx, trading)
            next_position_s = _next_due(next_position_s, POSITION_SNAPSHOT_PERIOD_S, now_s)


def _next_due(due_s: float, period_s: float, now_s: float) -> float:
    """The next time on the grid after `now_s` (a late wake-up skips, never bunches)."""
    due_s += period_s
    return due_s if due_s > now_s else now_s + period_s


def _record_ladder(ctx: RunContext, trading: Trading, recorded_version: int) -> int:
    """Record the newest gated ladder with the decision behind it, if it is new; returns the
    version recorded. The quoter's diagnostics are those of its last decision, which made
    that ladder: both are read in the same step, with no decision in between."""
    current = trading.desired.current
    if current is None or current.version == recorded_version:
        return recorded_version
    decision = trading.quoter.diagnostics().decision(ctx.run_id, ctx.now_ns(), current.value)
    if decision is not None:
        ctx.emit(decision)
    return current.version


def _record_position(ctx: RunContext, trading: Trading) -> None:
    mark = trading.mark_price
    if mark is None:
        return
    position = trading.tracker.position
    ctx.emit(
        PositionSnapshot.from_position(
            ctx.run_id,
            ctx.now_ns(),
            position,
            position.pnl(trading.instrument, mark),
            mark,
        )
    )
