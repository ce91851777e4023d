"""What a backtest writes to the store: the same event vocabulary as a live run
(`thalex_trio.domain.events`), stamped with the data's local time.

`RunEvents` collects the events of one run as the driver produces them; the caller hands them to
the store's `EventSink` in batches (`take`), so the backtest itself stays synchronous and
never touches the database. Recorded: the run and its end, the instrument's grids, every order
state change, every fill (with its fair value and ladder level), trading-state changes with
the breaches behind them, the valued position every `POSITION_PERIOD_NS` and at the end, the
top of book on the sample grid (for markouts) and each quote decision.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from thalex_trio import __version__
from thalex_trio.domain.events import (
    FillEvent,
    InstrumentInfo,
    OrderEvent,
    PositionSnapshot,
    RiskEvent,
    RunId,
    RunStarted,
    RunStopped,
    StoreEvent,
    TopOfBookSnapshot,
    TradingStateChange,
)
from thalex_trio.risk import TradingState

if TYPE_CHECKING:
    from thalex_trio.domain.enums import ChangeReason
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.market import TopOfBook
    from thalex_trio.domain.order import Order
    from thalex_trio.domain.position import Position
    from thalex_trio.domain.quote import QuoteLadder
    from thalex_trio.risk import Verdict
    from thalex_trio.strategy.quoter import QuoterDiagnostics

MODE = "backtest"
"""The `runs.mode` of a backtest."""
POSITION_PERIOD_NS = 1_000_000_000
"""How often (in data time) the valued position is recorded, as the live tap does."""


class RunEvents:
    """The store events of one backtest run, in the order they happened (see module docs)."""

    def __init__(
        self, run_id: RunId, instrument: Instrument, config_json: str, source: str
    ) -> None:
        self.run_id = run_id
        self.instrument = instrument
        self._config_json = config_json
        self._source = source
        self._events: list[StoreEvent] = []
        self._next_position_ns: int | None = None
        self.count = 0
        """Events recorded so far (taken or not)."""

    def _add(self, event: StoreEvent) -> None:
        self._events.append(event)
        self.count += 1

    def take(self) -> list[StoreEvent]:
        """The events recorded since the last call, oldest first."""
        out = self._events
        self._events = []
        return out

    # -- run ---------------------------------------------------------------------------------

    def started(self, local_ns: int) -> None:
        """The run began at the data's first time."""
        inst = self.instrument
        self._add(
            RunStarted(
                self.run_id,
                local_ns,
                MODE,
                __version__,
                config_json=self._config_json,
                network=self._source,
            )
        )
        self._add(
            InstrumentInfo(self.run_id, local_ns, inst.name, inst.tick_size, inst.volume_tick_size)
        )
        self._next_position_ns = (local_ns // POSITION_PERIOD_NS + 1) * POSITION_PERIOD_NS

    def stopped(self, local_ns: int, position: Position, mid_ticks: float) -> None:
        """The run ended: the final valued position, then the stop."""
        self._position(local_ns, position, mid_ticks)
        self._add(RunStopped(self.run_id, local_ns, "end of data", 0))

    # -- market and decisions ----------------------------------------------------------------

    def sample(self, top: TopOfBook, position: Position, mid_ticks: float) -> None:
        """A point of the sample grid: the top of book, and the position when one is due."""
        t = top.time_ns
        self._add(TopOfBookSnapshot(self.run_id, t, top))
        due = self._next_position_ns
        if due is not None and t >= due:
            self._position(t, position, mid_ticks)
            self._next_position_ns = (t // POSITION_PERIOD_NS + 1) * POSITION_PERIOD_NS

    def decision(self, local_ns: int, ladder: QuoteLadder, why: QuoterDiagnostics) -> None:
        """One decision: the ladder sent on (after risk) and the model state behind it."""
        decision = why.decision(self.run_id, local_ns, ladder)
        if decision is not None:
            self._add(decision)

    # -- execution ---------------------------------------------------------------------------

    def order(
        self, local_ns: int, order: Order | None, change_reason: ChangeReason | None = None
    ) -> None:
        """An order as it is right after a change (ignored when the tracker forgot it)."""
        if order is not None:
            self._add(
                OrderEvent.from_order(self.run_id, local_ns, order, change_reason=change_reason)
            )

    def fill(self, local_ns: int, fill: Fill, fair_ticks: float, level: int) -> None:
        """One of our fills, with the fair value it is measured against and its level."""
        self._add(
            FillEvent(
                self.run_id,
                local_ns,
                fill,
                fair_ticks=None if math.isnan(fair_ticks) else fair_ticks,
                level=None if level < 0 else level,
            )
        )

    def verdict(self, local_ns: int, previous: Verdict | None, verdict: Verdict) -> None:
        """A risk verdict; recorded when the trading state changes, as the live run does."""
        old = TradingState.ACTIVE if previous is None else previous.trading_state
        if verdict.trading_state is old:
            return
        reason = "; ".join(b.message for b in verdict.breaches) or "recovered"
        current = verdict.trading_state.value
        self._add(TradingStateChange(self.run_id, local_ns, old.value, current, reason))
        for breach in verdict.breaches:
            self._add(
                RiskEvent(
                    self.run_id, local_ns, breach.kind.value, breach.value, breach.limit, current
                )
            )

    def _position(self, local_ns: int, position: Position, mid_ticks: float) -> None:
        if math.isnan(mid_ticks):
            return
        mark = mid_ticks * self.instrument.tick_size
        self._add(
            PositionSnapshot.from_position(
                self.run_id, local_ns, position, position.pnl(self.instrument, mark), mark
            )
        )
