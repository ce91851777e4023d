"""The watchdog's position check, and the fill catch-ups that feed it.

A difference from the venue's statement stops the run only when it outlives the grace *and*
the venue was asked since it began. A dead connection that answers nothing (a partition,
before the heartbeat notices) must not turn one lost portfolio notification into a risk
stop: the reconnect checks the position again, reading the trade history no further back
than the run's start."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest
import trio
import trio.testing

from thalex_trio.domain.actions import Insert
from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import TradeId
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.runtime.context import RiskBreach, Trading
from thalex_trio.runtime.position_audit import (
    POSITION_AUDIT_DEADLINE_S,
    POSITION_AUDIT_S,
    run_position_audit,
)
from thalex_trio.runtime.session_task import _snapshot
from thalex_trio.runtime.watchdog import POSITION_MISMATCH_GRACE_S, _check_position
from thalex_trio.strategy.quoter import Quoter

from ..domain.test_instrument import perpetual
from .harness import make_context

if TYPE_CHECKING:
    from thalex_trio.runtime.venue import Venue


def differing_trading() -> Trading:
    """Trading whose own position is flat while the venue states 3 lots."""
    instrument = perpetual()
    trading = Trading(instrument, Quoter(instrument), OrderTracker(instrument))
    trading.portfolio_lots = 3
    return trading


async def test_a_difference_stops_once_the_venue_was_asked_since(
    virtual_clock: trio.testing.MockClock,
) -> None:
    trading = differing_trading()
    _check_position(trading)  # the difference begins; the audit is asked to run
    await trio.sleep(POSITION_MISMATCH_GRACE_S + 1.0)
    _check_position(trading)  # past the grace, but the venue has not answered since
    trading.audited_at_s = trio.current_time()  # an audit answered and still disagrees
    await trio.sleep(0.05)
    with pytest.raises(RiskBreach, match="position mismatch"):
        _check_position(trading)


async def test_an_audit_from_before_the_difference_does_not_count(
    virtual_clock: trio.testing.MockClock,
) -> None:
    trading = differing_trading()
    trading.audited_at_s = trio.current_time()
    await trio.sleep(0.05)
    _check_position(trading)
    await trio.sleep(POSITION_MISMATCH_GRACE_S * 3)
    _check_position(trading)  # no breach: nothing was asked after the difference began
    assert trading.portfolio_mismatch_since_s is not None


async def test_agreement_clears_the_difference(virtual_clock: trio.testing.MockClock) -> None:
    trading = differing_trading()
    _check_position(trading)
    trading.portfolio_lots = 0
    await trio.sleep(POSITION_MISMATCH_GRACE_S + 1.0)
    _check_position(trading)
    assert trading.portfolio_mismatch_since_s is None


class HangingOnceVenue:
    """The two requests the audit makes: the first position request is never answered."""

    def __init__(self) -> None:
        self.position_requests = 0

    async def position_lots(self) -> int:
        self.position_requests += 1
        if self.position_requests == 1:
            await trio.sleep_forever()
        await trio.lowlevel.checkpoint()
        return 3

    async def fills_since(self, time_ns: int) -> list[Fill]:
        del time_ns
        await trio.lowlevel.checkpoint()
        return []


async def test_an_unanswered_audit_gives_way_to_the_next(
    virtual_clock: trio.testing.MockClock,
) -> None:
    trading = differing_trading()
    venue = HangingOnceVenue()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_position_audit, make_context(), trading, cast("Venue", venue))
        trading.position_doubt.set()
        await trio.sleep(POSITION_AUDIT_DEADLINE_S + POSITION_AUDIT_S + 1.0)
        nursery.cancel_scope.cancel()
    assert venue.position_requests >= 2
    assert trading.audited_at_s is not None


class HistoryVenue:
    """A venue after a reconnect: no open order, a flat position, and a trade history that
    holds a fill of an earlier process (client order ids start over in every process)."""

    def __init__(self, history: list[Fill]) -> None:
        self.history = history
        self.asked_since_ns: list[int] = []

    async def open_orders(self) -> list[object]:
        await trio.lowlevel.checkpoint()
        return []

    async def position_lots(self) -> int:
        await trio.lowlevel.checkpoint()
        return 0

    async def fills_since(self, time_ns: int) -> list[Fill]:
        # Like the exchange: the history is read from a whole second before the bound.
        self.asked_since_ns.append(time_ns)
        await trio.lowlevel.checkpoint()
        return [f for f in self.history if f.time_ns >= time_ns - 1_000_000_000]


async def test_a_reconnect_before_any_fill_reads_no_history_from_before_the_run(
    virtual_clock: trio.testing.MockClock,
) -> None:
    instrument = perpetual()
    ctx = make_context()
    run_start_ns = ctx.now_ns()
    trading = Trading(
        instrument, Quoter(instrument), OrderTracker(instrument), run_start_ns=run_start_ns
    )
    first_id = trading.tracker.next_client_order_id
    trading.tracker.on_sent(Insert(first_id, instrument.name, Side.BUY, 100, 2), run_start_ns)
    earlier_process_fill = Fill(
        TradeId("earlier-run"),
        instrument.name,
        Side.BUY,
        100,
        2,
        Liquidity.MAKER,
        0.0,
        run_start_ns - 60 * 1_000_000_000,
        client_order_id=first_id,
    )
    venue = HistoryVenue([earlier_process_fill])
    trading.tracker = trading.tracker.restarted()
    await _snapshot(ctx, cast("Venue", venue), trading, first_start=False)  # no RiskBreach
    assert venue.asked_since_ns == [run_start_ns]
    assert trading.tracker.position.size_lots == 0
    assert trading.fills_unseen_since_ns == run_start_ns
    trading.last_fill_ns = run_start_ns + 5
    assert trading.fills_unseen_since_ns == run_start_ns + 5
