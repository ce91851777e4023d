"""Lost book deltas: the feed notices, the session resubscribes the book, and the fresh snapshot
makes our book the exchange's again, without a reconnect; a resubscription left unanswered
ends the session for a new one."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest
import trio
import trio.testing

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.runtime.context import Trading
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.restart import is_retryable
from thalex_trio.runtime.session_task import (
    BOOK_REFRESH_DEADLINE_S,
    BookRefreshFailed,
    _refresh_book,
)
from thalex_trio.sim.market.params import Regime, SyntheticParams
from thalex_trio.sim.server.faults import FaultPlan, ScopedChance
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.thalex.channels import book_channel

from .harness import make_context, open_server, run_bot

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.thalex.channels import Channel
    from thalex_trio.thalex.session import ThalexSession

INSTRUMENT = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)


FALLING = SyntheticParams(
    arrival_a_per_s=20.0, options=None, regimes=(Regime("falling", drift_ticks_per_s=-20.0),)
)
"""A busy market falling 20 ticks a second: the levels it leaves while our deltas are lost are
never touched again, so they stay in our book above the market, whatever our quotes do (in a
churning market most lost levels heal themselves with the next change at their price)."""


async def test_lost_book_deltas_are_healed_by_a_fresh_snapshot(
    virtual_clock: trio.testing.MockClock,
) -> None:
    ctx = make_context()
    async with open_server(market_params=FALLING) as server, trio.open_nursery() as nursery:
        refreshes_before_loss: list[int] = []

        async def lose_market_data() -> None:
            await trio.sleep(5.0)  # quoting by now
            refreshes_before_loss.append(ctx.stats.book_refreshes)
            # Every public notification is lost for 3 s while the market moves: levels that
            # went then stay in our book, and the ticker names another top than ours.
            server.inject(FaultPlan(drop_notification=ScopedChance("market", 1.0)))
            await trio.sleep(3.0)
            server.set_faults(FaultPlan())

        nursery.start_soon(lose_market_data)
        code = await run_bot(server, ctx, duration_s=35.0)
        nursery.cancel_scope.cancel()
    assert code is Outcome.OK
    assert refreshes_before_loss == [0]  # an honest book is never doubted
    # One refresh, and its snapshot replaced our book (the first snapshot came at the start).
    assert ctx.stats.book_refreshes == 1
    assert ctx.stats.book_snapshots == 2
    assert ctx.stats.disconnects == 0


class SilentSession:
    """A connection that never answers a subscription change."""

    async def unsubscribe(self, channels: Iterable[str | Channel]) -> list[str]:
        await trio.sleep_forever()

    async def subscribe(self, channels: Iterable[str | Channel]) -> list[str]:
        await trio.sleep_forever()


async def test_a_refresh_left_unanswered_ends_the_session_for_a_new_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Left between unsubscribe and subscribe we would have no book at all.
    ctx = make_context()
    trading = Trading(INSTRUMENT, Quoter(INSTRUMENT), OrderTracker(INSTRUMENT))
    trading.book_doubt.set()
    session = cast("ThalexSession", SilentSession())
    start = trio.current_time()
    with pytest.raises(BookRefreshFailed) as failure:
        await _refresh_book(ctx, session, trading, book_channel(INSTRUMENT.name))
    assert trio.current_time() - start == pytest.approx(BOOK_REFRESH_DEADLINE_S)
    assert is_retryable(failure.value)
    assert ctx.stats.book_refreshes == 0
