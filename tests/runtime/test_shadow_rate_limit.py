"""Shadow mode sends no faster than a live connection may: the exchange's message rates."""

from __future__ import annotations

import trio
import trio.testing

from thalex_trio.domain.actions import Cancel, Insert
from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, BookUpdate
from thalex_trio.runtime.shadow_venue import ShadowExchange
from thalex_trio.runtime.venue import VenueEvent
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.thalex.ratelimit import (
    CANCEL_RATE_PER_S,
    NON_PERSISTENT_ENGINE_RATE_PER_S,
    TokenBucket,
)

NAME = "BTC-PERPETUAL"
INSTRUMENT = Instrument(NAME, InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)
BURST = 3 * NON_PERSISTENT_ENGINE_RATE_PER_S
"""Inserts sent back to back: three seconds' worth at the exchange's rate."""


def exchange_throttles(times_s: list[float], rate_per_s: float) -> int:
    """How many of the requests at `times_s` the exchange would answer with code 4: its
    limiter is a bucket of one second's messages refilled at the rate (the simulator's too)."""
    bucket = TokenBucket(rate_per_s, times_s[0])
    return sum(bucket.try_take(t) > 0 for t in times_s)


async def test_shadow_orders_wait_for_the_exchange_message_rate(
    virtual_clock: trio.testing.MockClock,
) -> None:
    submitted: list[tuple[str, float]] = []
    shadow = ShadowExchange(EngineParams())
    venue = shadow(None, INSTRUMENT)
    current: list[str] = ["insert"]
    shadow.on_submit = lambda: submitted.append((current[0], trio.current_time()))
    book = BookUpdate(
        NAME, (BookLevel(60_000, 5),), (BookLevel(60_010, 5),), (), is_snapshot=True, time_ns=1
    )
    venue.observe_market(book)
    send, receive = trio.open_memory_channel[VenueEvent](4 * BURST)
    async with trio.open_nursery() as nursery:
        await nursery.start(venue.run, send)
        start_s = trio.current_time()
        for i in range(1, BURST + 1):
            # Far from the touch: resting, never filled.
            await venue.execute(Insert(ClientOrderId(i), NAME, Side.BUY, 59_000 - i, 1))
        # The engine lane is empty now; a cancel has its own lane and does not wait for it.
        current[0] = "cancel"
        before_cancel_s = trio.current_time()
        await venue.execute(Cancel(ClientOrderId(1)))
        cancel_wait_s = trio.current_time() - before_cancel_s
        nursery.cancel_scope.cancel()
    receive.close()
    inserts = [t for kind, t in submitted if kind == "insert"]
    assert len(inserts) == BURST
    assert exchange_throttles(inserts, NON_PERSISTENT_ENGINE_RATE_PER_S) == 0
    # It really waited: one second's burst at once, the rest at the rate.
    expected_s = (BURST - NON_PERSISTENT_ENGINE_RATE_PER_S) / NON_PERSISTENT_ENGINE_RATE_PER_S
    assert inserts[-1] - start_s >= expected_s * 0.99
    cancels = [t for kind, t in submitted if kind == "cancel"]
    assert exchange_throttles(cancels, CANCEL_RATE_PER_S) == 0
    assert cancel_wait_s < 1 / NON_PERSISTENT_ENGINE_RATE_PER_S
