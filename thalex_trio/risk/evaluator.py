"""Exposure, PnL and health against limits -> a verdict and a trading state (pure).

ACTIVE trades normally (at `size_multiplier` of full size while recovering); REDUCING allows only
orders that reduce the position; HALTED allows only cancels and is terminal for the process (the
runtime cancels everything and exits; a restart is a new process). Time comes in with the
snapshot (`now_ns`); nothing here reads a clock.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from attrs import evolve, frozen

from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.order import Order
from thalex_trio.risk.exposure import worst_case_lots

if TYPE_CHECKING:
    from thalex_trio.risk.limits import RiskLimits

_NS = 1_000_000_000


class TradingState(enum.Enum):
    """What the bot may send."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class BreachKind(enum.Enum):
    """Which limit was broken."""

    POSITION = "position"
    NOTIONAL = "notional"
    EXPOSURE = "exposure"
    ORDER_SIZE = "order_size"
    DRAWDOWN = "drawdown"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    STALE_MARKET_DATA = "stale_market_data"
    LATENCY = "latency"
    REJECT_RATE = "reject_rate"
    THROTTLE_RATE = "throttle_rate"
    DISCONNECTS = "disconnects"

    @property
    def halts(self) -> bool:
        """True for breaches that stop the process rather than reduce."""
        return self in _HALTING


_HALTING = frozenset(
    {BreachKind.ORDER_SIZE, BreachKind.DRAWDOWN, BreachKind.STOP_LOSS, BreachKind.DISCONNECTS}
)


@frozen
class Breach:
    """One broken limit, with the measured value and the limit in the same unit."""

    kind: BreachKind
    value: float
    limit: float
    message: str


@frozen
class RiskSnapshot:
    """Everything the evaluator looks at, measured at `now_ns`.

    `pnl` is total PnL in the quote currency (realised + unrealised + funding - fees);
    `mark_price` is None until known (notional unchecked); `last_market_data_ns` is None before
    the first market data (staleness unchecked: the quote loop cannot quote without data);
    `round_trip_s` is the latest measured request round trip, None before the first. The three
    counters are cumulative over the process.
    """

    now_ns: int
    instrument: Instrument
    position_lots: int
    orders: tuple[Order, ...]
    pnl: float
    mark_price: float | None = None
    last_market_data_ns: int | None = None
    round_trip_s: float | None = None
    rejects_total: int = 0
    throttles_total: int = 0
    disconnects_total: int = 0


_Sample = tuple[int, int, int, int]  # (time_ns, rejects, throttles, disconnects) when they changed


@frozen
class RiskState:
    """What the evaluator remembers between calls; start with `RiskState.initial`."""

    trading_state: TradingState
    peak_pnl: float
    samples: tuple[_Sample, ...]
    last_breach_ns: int | None = None
    recovery_start_ns: int | None = None
    take_profit_hit: bool = False
    halt_breaches: tuple[Breach, ...] = ()

    @classmethod
    def initial(
        cls,
        now_ns: int,
        *,
        pnl: float = 0.0,
        rejects: int = 0,
        throttles: int = 0,
        disconnects: int = 0,
    ) -> RiskState:
        """The state at process start: ACTIVE, peak at the current PnL, counters as they are."""
        return cls(TradingState.ACTIVE, pnl, ((now_ns, rejects, throttles, disconnects),))


@frozen
class Verdict:
    """The outcome of one evaluation, and the state to pass to the next one."""

    trading_state: TradingState
    size_multiplier: float
    breaches: tuple[Breach, ...]
    state: RiskState

    @property
    def may_increase_position(self) -> bool:
        """True when orders that grow the position are allowed."""
        return self.trading_state is TradingState.ACTIVE


def evaluate(snapshot: RiskSnapshot, limits: RiskLimits, state: RiskState) -> Verdict:
    """Check every enabled limit and move the trading state.

    A halting breach moves to HALTED for good. Any other breach (or a take profit ever hit)
    means REDUCING. Once no breach remains for `limits.cooldown_s`, the state returns to ACTIVE
    at 1/`recovery_steps` of full size, growing one step every `recovery_step_s`.
    """
    if state.trading_state is TradingState.HALTED:
        return Verdict(TradingState.HALTED, 0.0, state.halt_breaches, state)
    now = snapshot.now_ns
    peak = max(state.peak_pnl, snapshot.pnl)
    samples = _record(state.samples, snapshot, limits, now)
    breaches = _breaches(snapshot, limits, peak, samples)
    state = evolve(state, peak_pnl=peak, samples=samples)
    if any(b.kind.halts for b in breaches):
        halted = evolve(state, trading_state=TradingState.HALTED, halt_breaches=breaches)
        return Verdict(TradingState.HALTED, 0.0, breaches, halted)
    take_profit = state.take_profit_hit or any(b.kind is BreachKind.TAKE_PROFIT for b in breaches)
    if breaches or take_profit:
        reducing = evolve(
            state,
            trading_state=TradingState.REDUCING,
            last_breach_ns=now if breaches else state.last_breach_ns,
            recovery_start_ns=None,
            take_profit_hit=take_profit,
        )
        return Verdict(TradingState.REDUCING, 1.0, breaches, reducing)
    if state.trading_state is TradingState.REDUCING:
        assert state.last_breach_ns is not None
        if now - state.last_breach_ns < limits.cooldown_s * _NS:
            return Verdict(TradingState.REDUCING, 1.0, (), state)
        state = evolve(state, trading_state=TradingState.ACTIVE, recovery_start_ns=now)
    multiplier = 1.0
    if state.recovery_start_ns is not None:
        step_ns = limits.recovery_step_s * _NS
        done = (
            limits.recovery_steps
            if step_ns == 0
            else 1 + int((now - state.recovery_start_ns) // step_ns)
        )
        if done >= limits.recovery_steps:
            state = evolve(state, recovery_start_ns=None)
        else:
            multiplier = done / limits.recovery_steps
    return Verdict(TradingState.ACTIVE, multiplier, (), state)


def _record(
    samples: tuple[_Sample, ...], snapshot: RiskSnapshot, limits: RiskLimits, now: int
) -> tuple[_Sample, ...]:
    """Samples with this snapshot's counters added (when they changed) and the ones older than
    the longest window dropped, keeping the newest of those as the baseline."""
    latest = (now, snapshot.rejects_total, snapshot.throttles_total, snapshot.disconnects_total)
    if latest[1:] != samples[-1][1:]:
        samples = (*samples, latest)
    horizon = now - max(limits.rate_window_s, limits.disconnect_window_s) * _NS
    first = 0
    while first + 1 < len(samples) and samples[first + 1][0] <= horizon:
        first += 1
    return samples[first:]


def _in_window(samples: tuple[_Sample, ...], now: int, window_s: float, column: int) -> int:
    """How much a counter grew over the last `window_s` (since the baseline sample)."""
    start = now - window_s * _NS
    baseline = samples[0]
    for sample in samples:
        if sample[0] > start:
            break
        baseline = sample
    return samples[-1][column] - baseline[column]


def _breaches(
    snapshot: RiskSnapshot, limits: RiskLimits, peak: float, samples: tuple[_Sample, ...]
) -> tuple[Breach, ...]:
    found: list[Breach] = []

    def over(kind: BreachKind, value: float, limit: float | None, text: str) -> None:
        if limit is not None and value > limit:
            found.append(Breach(kind, value, limit, text.format(value=value, limit=limit)))

    position = snapshot.position_lots
    over(
        BreachKind.POSITION,
        abs(position),
        limits.max_position_lots,
        "|position| {value} lots exceeds max_position_lots {limit} lots",
    )
    if snapshot.mark_price is not None:
        mark_ticks = snapshot.instrument.fractional_ticks(snapshot.mark_price)
        notional = snapshot.instrument.notional(mark_ticks, position)
        over(
            BreachKind.NOTIONAL,
            notional,
            limits.max_notional,
            "notional {value:.2f} exceeds max_notional {limit:.2f} (quote currency)",
        )
    long_lots, short_lots = worst_case_lots(position, snapshot.orders)
    over(
        BreachKind.EXPOSURE,
        max(long_lots, short_lots),
        limits.max_exposure_lots,
        "worst-case exposure {value} lots exceeds max_exposure_lots {limit} lots",
    )
    largest = max((o.amount_lots for o in snapshot.orders if not o.is_terminal), default=0)
    over(
        BreachKind.ORDER_SIZE,
        largest,
        limits.max_order_lots,
        "a live order of {value} lots exceeds max_order_lots {limit} lots",
    )
    over(
        BreachKind.DRAWDOWN,
        peak - snapshot.pnl,
        limits.max_drawdown,
        "drawdown {value:.2f} from peak PnL exceeds max_drawdown {limit:.2f} (quote currency)",
    )
    if limits.stop_loss is not None and snapshot.pnl <= -limits.stop_loss:
        found.append(
            Breach(
                BreachKind.STOP_LOSS,
                snapshot.pnl,
                -limits.stop_loss,
                f"PnL {snapshot.pnl:.2f} is at or below the stop loss "
                f"{-limits.stop_loss:.2f} (quote currency)",
            )
        )
    if limits.take_profit is not None and snapshot.pnl >= limits.take_profit:
        found.append(
            Breach(
                BreachKind.TAKE_PROFIT,
                snapshot.pnl,
                limits.take_profit,
                f"PnL {snapshot.pnl:.2f} reached the take profit "
                f"{limits.take_profit:.2f} (quote currency)",
            )
        )
    if snapshot.last_market_data_ns is not None:
        age_s = (snapshot.now_ns - snapshot.last_market_data_ns) / _NS
        over(
            BreachKind.STALE_MARKET_DATA,
            age_s,
            limits.max_market_data_age_s,
            "market data is {value:.3f} s old, over max_market_data_age_s {limit} s",
        )
    if snapshot.round_trip_s is not None:
        over(
            BreachKind.LATENCY,
            snapshot.round_trip_s,
            limits.max_round_trip_s,
            "round trip {value:.3f} s exceeds max_round_trip_s {limit} s",
        )
    now, window = snapshot.now_ns, limits.rate_window_s
    over(
        BreachKind.REJECT_RATE,
        _in_window(samples, now, window, 1),
        limits.max_rejects_per_window,
        f"{{value}} rejects in {window:g} s exceed max_rejects_per_window {{limit}}",
    )
    over(
        BreachKind.THROTTLE_RATE,
        _in_window(samples, now, window, 2),
        limits.max_throttles_per_window,
        f"{{value}} throttled requests in {window:g} s exceed max_throttles_per_window {{limit}}",
    )
    over(
        BreachKind.DISCONNECTS,
        _in_window(samples, now, limits.disconnect_window_s, 3),
        limits.max_disconnects,
        f"{{value}} disconnects in {limits.disconnect_window_s:g} s exceed max_disconnects "
        "{limit}",
    )
    return tuple(found)
