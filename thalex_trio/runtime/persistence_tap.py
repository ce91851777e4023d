"""The persistence tap: periodic snapshots of what is not an event by itself (the position
valued at the mark). Events (orders, fills, market data, risk) are emitted where they happen;
`EventSink.emit` never blocks, and the store writer batches them in its own task."""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from thalex_trio.domain.events import PositionSnapshot

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext, Trading

POSITION_SNAPSHOT_PERIOD_S = 1.0
"""How often the valued position is recorded."""


async def run_persistence_tap(ctx: RunContext, trading: Trading) -> None:
    """Record the position at the mark every `POSITION_SNAPSHOT_PERIOD_S` until cancelled."""
    while True:
        await trio.sleep(POSITION_SNAPSHOT_PERIOD_S)
        mark = trading.mark_price
        if mark is None:
            continue
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
