"""The quote loop: newest market state + position -> the desired ladder, gated by risk.

It conflates: however many market updates arrived while it worked, the next decision uses the
newest state, and the executor in turn takes the newest ladder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thalex_trio.risk.gate import gate_ladder
from thalex_trio.strategy.market_state import Exposure

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext, Trading


async def run_quote_loop(ctx: RunContext, trading: Trading) -> None:
    """Decide on every new market state until cancelled."""
    seen = 0
    quoter = trading.quoter
    min_lots = trading.instrument.min_order_lots
    while True:
        stamped = await trading.market.wait_newer(seen)
        seen = stamped.version
        tracker = trading.tracker
        position_lots = tracker.position.size_lots
        resting_buy, resting_sell, flight_buy, flight_sell = tracker.exposure_lots()
        ladder = quoter.decide(
            ctx.now_ns(),
            Exposure(position_lots, resting_buy, resting_sell, flight_buy, flight_sell),
        )
        verdict = ctx.verdict
        if verdict is not None:
            ladder = gate_ladder(ladder, verdict, position_lots, min_lots)
        trading.desired.publish(ladder, stamped.origin_ns, ctx.tick_to_order.clock_ns())
        trading.executor_wake.set()
