"""The state one run shares between its tasks, and the stop machinery.

Tasks are siblings in nurseries; what they share lives here, each field written by one task
(named in its comment) and read by others. No locks are needed: Trio switches tasks only at
`await`, and every update here is synchronous.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio
from attrs import Factory, define, field

from thalex_trio.domain.events import RiskEvent, RunId, TradingStateChange
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.quote import QuoteLadder
from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.risk.evaluator import RiskState, TradingState, Verdict
from thalex_trio.risk.limits import RiskLimits
from thalex_trio.runtime.clock import WallClock
from thalex_trio.runtime.feed import OrderFeedProbe
from thalex_trio.runtime.market_state import Latest, Signal
from thalex_trio.runtime.options import OptionsPipeline
from thalex_trio.runtime.sent_signals import SentSignals
from thalex_trio.runtime.status import RunStats
from thalex_trio.runtime.tick_to_order import TickToOrder
from thalex_trio.store.sink import EventSink
from thalex_trio.strategy.quoter import Quoter

if TYPE_CHECKING:
    from thalex_trio.domain.events import StoreEvent

_log = logging.getLogger(__name__)


class RiskBreach(Exception):
    """A risk stop: the tree unwinds, every order is cancelled, the process exits with the
    status of `trading_state`.

    HALTED (exit 11): a money or fault limit (drawdown, stop loss, order size, disconnects);
    terminal, a supervisor should not restart the process unattended. REDUCING (exit 10): a
    position, exposure or health limit or take profit that kept trading REDUCING (see the
    watchdog), or our position from fills disagreeing with the venue's; a new process starts
    again from the venue's position.
    """

    def __init__(self, reason: str, trading_state: TradingState = TradingState.HALTED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.trading_state = trading_state


def reconcile_settings(
    params: ReconcileParams, limits: RiskLimits
) -> tuple[ReconcileParams, ReconcileLimits]:
    """The reconciler's parameters and hard limits, from the `reconcile` and `risk` sections:
    the plan never breaks the risk limits the watchdog would halt on."""
    return params, ReconcileLimits(
        max_exposure_lots=limits.max_exposure_lots, max_order_lots=limits.max_order_lots
    )


@define
class Trading:
    """Per-instrument trading state: the pieces the feed, quote loop, executor and watchdog
    share. `tracker` is replaced on every (re)start; the rest lives for the whole run."""

    instrument: Instrument
    quoter: Quoter
    tracker: OrderTracker
    market: Latest[None] = field(factory=Latest)
    """Bumped by the feed on every market change of the instrument (newest wins)."""
    desired: Latest[QuoteLadder] = field(factory=Latest)
    """The quote loop's newest gated ladder, for the executor."""
    executor_wake: Signal = field(factory=Signal)
    """Set by the quote loop (new ladder) and the order feed (an order changed: the executor
    may finish levels it had to defer)."""
    order_feed: OrderFeedProbe | None = None
    """Whether the order feed has caught up (set per session; read by the executor)."""
    options: OptionsPipeline | None = None
    """The session's options follower (with `follow_options`), for status and tests."""
    portfolio_lots: int | None = None
    """The venue's statement of our position (order feed)."""
    portfolio_updates: int = 0
    """How many portfolio statements the order feed has applied (the audit's answer must not
    overwrite one that arrived while it was being asked)."""
    portfolio_mismatch_since_s: float | None = None
    audited_at_s: float | None = None
    """Trio time the position audit last had the venue's answers."""
    run_start_ns: int = 0
    """Wall time the first session started: no fill of this run is older, and client order
    ids start over in every process, so the trade history is never read from before it."""
    session_start_ns: int | None = None
    """Wall time the current session started (the position audit and the cleanup read the
    trade history from there)."""
    book_doubt: Signal = field(factory=Signal)
    """Set by the market feed when our book looks like it lost a delta (`book_check.py`): the
    session resubscribes the book for a fresh snapshot."""
    position_doubt: Signal = field(factory=Signal)
    """Set while our position differs from the venue's (watchdog) or an order was not found
    (executor): the position audit asks the venue at once (see `run_position_audit`)."""
    reducing_reason: str | None = None
    """The breaches that made it REDUCING (watchdog)."""
    mark_price: float | None = None
    index_price: float | None = None
    """The underlying's index (feed: the index channel and the instrument's ticker)."""
    last_market_data_ns: int | None = None
    """Wall time the instrument's book or ticker last came (the stale-data limit's clock; the
    underlying's index does not count)."""
    best_bid_ticks: int | None = None
    best_ask_ticks: int | None = None
    last_fill_ns: int | None = None

    @property
    def fills_unseen_since_ns(self) -> int:
        """Where a catch-up after a lost connection reads the trade history from: our newest
        counted fill, or the run's start when there is none yet (never from time 0, where an
        earlier process's fills carry the same client order ids as ours)."""
        return max(self.run_start_ns, self.last_fill_ns or 0)


@define
class RunContext:
    """Everything a run's tasks share; one per process run."""

    run_id: RunId
    mode: str
    clock: WallClock
    sink: EventSink
    risk_limits: RiskLimits
    reconcile_params: ReconcileParams
    reconcile_limits: ReconcileLimits
    quote_sample_interval_s: float = 1.0
    """How often the persistence tap records the newest desired ladder (0: never)."""
    stats: RunStats = field(factory=RunStats)
    tick_to_order: TickToOrder = field(
        default=Factory(lambda self: TickToOrder(self.stats), takes_self=True)
    )
    """Stamps market frames in and order frames out (session hooks, feed, executor)."""
    sends: SentSignals = field(
        default=Factory(lambda self: SentSignals(self.tick_to_order), takes_self=True)
    )
    """The send hook's dispatcher (tick-to-order samples, the executor's back-to-back sends)."""
    trading: Trading | None = None
    risk_state: RiskState | None = None
    verdict: Verdict | None = None
    stop_reason: str | None = None
    breach: RiskBreach | None = None
    cleanup_complete: bool | None = None
    """None until a cleanup ran; then whether no order was left open within the deadline."""
    _trading_scope: trio.CancelScope | None = None
    _run_scope: trio.CancelScope | None = None

    def emit(self, event: StoreEvent) -> None:
        """Record `event` (never blocks)."""
        self.sink.emit(event)

    def now_ns(self) -> int:
        """Wall-clock now, from the injected clock."""
        return self.clock.now_ns()

    # -- stopping ------------------------------------------------------------------------------

    def set_run_scope(self, scope: trio.CancelScope | None) -> None:
        """The scope of the restart loop (cancelled by `stop` between sessions)."""
        self._run_scope = scope
        if scope is not None and self.stop_reason is not None:
            scope.cancel()

    def set_trading_scope(self, scope: trio.CancelScope | None) -> None:
        """The scope of the current session's trading tasks (cancelled by `stop`)."""
        self._trading_scope = scope
        if scope is not None and self.stop_reason is not None:
            scope.cancel()

    def stop(self, reason: str) -> None:
        """Stop gracefully: trading tasks end, the session cancels every order, the run ends.

        Only the trading scope is cancelled while a session is up, so the session itself stays
        alive for the cleanup.
        """
        if self.stop_reason is None:
            self.stop_reason = reason
            _log.info("stopping: %s", reason)
        if self._trading_scope is not None:
            self._trading_scope.cancel()
        elif self._run_scope is not None:
            self._run_scope.cancel()

    # -- risk ----------------------------------------------------------------------------------

    def on_verdict(self, verdict: Verdict) -> None:
        """Keep the newest verdict; record breaches and state changes."""
        previous = self.verdict
        self.verdict = verdict
        self.risk_state = verdict.state
        now = self.now_ns()
        old_state = TradingState.ACTIVE if previous is None else previous.trading_state
        if verdict.trading_state is not old_state:
            reason = "; ".join(b.message for b in verdict.breaches) or "recovered"
            _log.warning(
                "trading state %s -> %s: %s",
                old_state.value,
                verdict.trading_state.value,
                reason,
            )
            self.emit(
                TradingStateChange(
                    self.run_id, now, old_state.value, verdict.trading_state.value, reason
                )
            )
            for breach in verdict.breaches:
                self.emit(
                    RiskEvent(
                        self.run_id,
                        now,
                        breach.kind.value,
                        breach.value,
                        breach.limit,
                        verdict.trading_state.value,
                    )
                )

    @property
    def trading_state(self) -> TradingState:
        """The newest verdict's state (ACTIVE before the first)."""
        return TradingState.ACTIVE if self.verdict is None else self.verdict.trading_state
