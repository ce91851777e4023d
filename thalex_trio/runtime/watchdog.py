"""The risk watchdog: position, exposure, PnL and health -> verdict, every few milliseconds.

A breach that ends the run does so with its class of stop: the watchdog raises `RiskBreach`,
the tree unwinds and the session cancels every order.
- HALTED (money and fault limits: drawdown, stop loss, order size, disconnects): at once,
  exit 11; terminal.
- REDUCING (position, notional and exposure limits, take profit, and the link's health:
  stale data, latency, reject and throttle rates): the quote loop gates the ladder to
  reducing orders only, so the position can come back within its limits first; once trading
  has been REDUCING for `risk.max_reducing_s` (the evaluator's `Verdict.stop_process`), the
  run stops with exit 10 (a new process starts again from the venue's position). An episode
  that recovers sooner does not stop the run.
Our position (from fills) is cross-checked against the venue's portfolio: while they differ the
position audit asks the venue again and catches up fills whose notifications were lost from
the trade history; a difference that outlives the reporting lag even so is a REDUCING-class
stop at once (there is no known position to reduce), never silently overwritten.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from thalex_trio.risk.evaluator import (
    RiskSnapshot,
    RiskState,
    TradingState,
    Verdict,
    evaluate,
)

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext, Trading

from thalex_trio.runtime.context import RiskBreach

_log = logging.getLogger(__name__)

WATCHDOG_PERIOD_S = 0.05
"""How often the limits are checked."""

POSITION_MISMATCH_GRACE_S = 3.0
"""How long our position may differ from the venue's portfolio before it is a breach (the
portfolio channel lags fills)."""


def check_once(ctx: RunContext, trading: Trading) -> None:
    """Evaluate the limits now; raise RiskBreach on any breach (of the verdict's class)."""
    now_ns = ctx.now_ns()
    stats = ctx.stats
    tracker = trading.tracker
    position = tracker.position
    mark = trading.mark_price
    pnl = 0.0 if mark is None else position.pnl(trading.instrument, mark).total
    state = ctx.risk_state
    if state is None:
        state = RiskState.initial(now_ns, pnl=pnl)
    snapshot = RiskSnapshot(
        now_ns=now_ns,
        instrument=trading.instrument,
        position_lots=position.size_lots,
        orders=tracker.orders(),
        pnl=pnl,
        mark_price=mark,
        last_market_data_ns=trading.last_market_data_ns,
        round_trip_s=stats.round_trip_s,
        rejects_total=stats.rejects,
        throttles_total=stats.throttles,
        disconnects_total=stats.disconnects,
    )
    verdict = evaluate(snapshot, ctx.risk_limits, state)
    changed = verdict.trading_state is not ctx.trading_state
    ctx.on_verdict(verdict)
    if changed:
        trading.market.poke()  # re-gate the ladder now, not at the next market update
    if verdict.trading_state is TradingState.HALTED:
        reasons = verdict.breaches or verdict.state.halt_breaches
        raise RiskBreach("; ".join(b.message for b in reasons) or "halted")
    _check_reducing(trading, verdict)
    _check_position(trading)


def _check_reducing(trading: Trading, verdict: Verdict) -> None:
    """Stop once REDUCING has lasted `risk.max_reducing_s`, naming the breaches behind it."""
    if verdict.trading_state is not TradingState.REDUCING:
        trading.reducing_reason = None
        return
    if verdict.breaches:  # none while it cools down: keep the reason that started it
        trading.reducing_reason = "; ".join(b.message for b in verdict.breaches)
    if verdict.stop_process:
        reason = trading.reducing_reason or "take profit"
        raise RiskBreach(f"{reason} (reducing for max_reducing_s)", TradingState.REDUCING)


def _check_position(trading: Trading) -> None:
    """Breach when our position has differed from the venue's for the grace and the venue was
    asked meanwhile (an audit answered after the difference began). A connection that
    answers nothing is the heartbeat's to end; the reconnect checks the position again."""
    venue_lots = trading.portfolio_lots
    ours = trading.tracker.position.size_lots
    now_s = trio.current_time()
    if venue_lots is None or venue_lots == ours:
        trading.portfolio_mismatch_since_s = None
        return
    trading.position_doubt.set()  # the audit asks the venue (coalesced while it runs)
    if trading.portfolio_mismatch_since_s is None:
        trading.portfolio_mismatch_since_s = now_s
    elif (
        now_s - trading.portfolio_mismatch_since_s >= POSITION_MISMATCH_GRACE_S
        and trading.audited_at_s is not None
        and trading.audited_at_s > trading.portfolio_mismatch_since_s
    ):
        raise RiskBreach(
            f"position mismatch: ours {ours} lots from fills, the venue's {venue_lots} lots "
            f"for {POSITION_MISMATCH_GRACE_S:g} s",
            TradingState.REDUCING,
        )


async def run_watchdog(ctx: RunContext, trading: Trading) -> None:
    """Check the limits every `WATCHDOG_PERIOD_S` until cancelled or a breach."""
    while True:
        check_once(ctx, trading)
        await trio.sleep(WATCHDOG_PERIOD_S)
