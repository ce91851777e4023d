"""Exposure, PnL and health against limits -> a verdict and a trading state (pure).

ACTIVE trades normally (at `size_multiplier` of full size while recovering); REDUCING allows only
orders that reduce the position; HALTED allows only cancels and is terminal for the process (the
runtime cancels everything and exits; a restart is a new process). Time comes in with the
snapshot (`now_ns`); nothing here reads a clock.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from attrs import frozen

from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.order import Order, OrderState
from thalex_trio.risk.exposure import worst_case_lots

if TYPE_CHECKING:
    from thalex_trio.risk.limits import RiskLimits

_NS = 1_000_000_000
_TERMINAL = OrderState.TERMINAL


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

# Module constants: an enum member lookup (`TradingState.ACTIVE`) costs ten times as much.
_ACTIVE = TradingState.ACTIVE
_REDUCING = TradingState.REDUCING
_HALTED = TradingState.HALTED


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
    reducing_since_ns: int | None = None  # when the current REDUCING episode began

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
    stop_process: bool = False
    """True when REDUCING has lasted `limits.max_reducing_s`: the process stops (exit 10)."""

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
    # States are built with the constructor rather than `attrs.evolve`, which inspects the
    # class on every call and cost more than the rest of an evaluation.
    if state.trading_state is _HALTED:
        return Verdict(_HALTED, 0.0, state.halt_breaches, state)
    now = snapshot.now_ns
    peak = max(state.peak_pnl, snapshot.pnl)
    samples = _record(state.samples, snapshot, limits, now)
    breaches = _breaches(snapshot, limits, peak, samples)
    trading_state = state.trading_state
    last_breach_ns = state.last_breach_ns
    recovery_start_ns = state.recovery_start_ns
    take_profit = state.take_profit_hit
    reducing_since_ns = state.reducing_since_ns
    if peak != state.peak_pnl or samples is not state.samples:
        state = RiskState(
            trading_state,
            peak,
            samples,
            last_breach_ns,
            recovery_start_ns,
            take_profit,
            state.halt_breaches,
            reducing_since_ns,
        )
    if breaches:
        if any(b.kind.halts for b in breaches):
            halted = RiskState(
                _HALTED, peak, samples, last_breach_ns, recovery_start_ns, take_profit, breaches
            )
            return Verdict(_HALTED, 0.0, breaches, halted)
        take_profit = take_profit or any(b.kind is BreachKind.TAKE_PROFIT for b in breaches)
    if trading_state is not _REDUCING:
        reducing_since_ns = now
    assert reducing_since_ns is not None
    outlasted = limits.max_reducing_s is not None and (
        now - reducing_since_ns >= limits.max_reducing_s * _NS
    )
    if breaches or take_profit:
        reducing = RiskState(
            _REDUCING,
            peak,
            samples,
            now if breaches else last_breach_ns,
            None,
            take_profit,
            state.halt_breaches,
            reducing_since_ns,
        )
        return Verdict(_REDUCING, 1.0, breaches, reducing, outlasted)
    if trading_state is _REDUCING:
        assert last_breach_ns is not None
        if now - last_breach_ns < limits.cooldown_s * _NS:
            return Verdict(_REDUCING, 1.0, (), state, outlasted)
        recovery_start_ns = now
        state = RiskState(
            _ACTIVE, peak, samples, last_breach_ns, now, take_profit, state.halt_breaches
        )
    multiplier = 1.0
    if recovery_start_ns is not None:
        step_ns = limits.recovery_step_s * _NS
        done = (
            limits.recovery_steps if step_ns == 0 else 1 + int((now - recovery_start_ns) // step_ns)
        )
        if done >= limits.recovery_steps:
            state = RiskState(
                state.trading_state,
                peak,
                samples,
                last_breach_ns,
                None,
                take_profit,
                state.halt_breaches,
            )
        else:
            multiplier = done / limits.recovery_steps
    return Verdict(_ACTIVE, multiplier, (), state)


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


def _breach(kind: BreachKind, value: float, limit: float, text: str) -> Breach:
    return Breach(kind, value, limit, text.format(value=value, limit=limit))


def _breaches(
    snapshot: RiskSnapshot, limits: RiskLimits, peak: float, samples: tuple[_Sample, ...]
) -> tuple[Breach, ...]:
    # Every check compares first and formats its message only when breached: almost every
    # evaluation finds nothing, and the messages cost more than the checks.
    found: list[Breach] = []
    position = snapshot.position_lots
    limit: float | None = limits.max_position_lots
    if limit is not None and abs(position) > limit:
        found.append(
            _breach(
                BreachKind.POSITION,
                abs(position),
                limit,
                "|position| {value} lots exceeds max_position_lots {limit} lots",
            )
        )
    if snapshot.mark_price is not None:
        mark_ticks = snapshot.instrument.fractional_ticks(snapshot.mark_price)
        notional = snapshot.instrument.notional(mark_ticks, position)
        limit = limits.max_notional
        if limit is not None and notional > limit:
            found.append(
                _breach(
                    BreachKind.NOTIONAL,
                    notional,
                    limit,
                    "notional {value:.2f} exceeds max_notional {limit:.2f} (quote currency)",
                )
            )
    orders = snapshot.orders
    long_lots, short_lots = worst_case_lots(position, orders)
    limit = limits.max_exposure_lots
    if limit is not None and max(long_lots, short_lots) > limit:
        found.append(
            _breach(
                BreachKind.EXPOSURE,
                max(long_lots, short_lots),
                limit,
                "worst-case exposure {value} lots exceeds max_exposure_lots {limit} lots",
            )
        )
    limit = limits.max_order_lots
    if limit is not None:
        largest = max((o.amount_lots for o in orders if o.state is not _TERMINAL), default=0)
        if largest > limit:
            found.append(
                _breach(
                    BreachKind.ORDER_SIZE,
                    largest,
                    limit,
                    "a live order of {value} lots exceeds max_order_lots {limit} lots",
                )
            )
    limit = limits.max_drawdown
    if limit is not None and peak - snapshot.pnl > limit:
        found.append(
            _breach(
                BreachKind.DRAWDOWN,
                peak - snapshot.pnl,
                limit,
                "drawdown {value:.2f} from peak PnL exceeds max_drawdown {limit:.2f}"
                " (quote currency)",
            )
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
    limit = limits.max_market_data_age_s
    if snapshot.last_market_data_ns is not None and limit is not None:
        age_s = (snapshot.now_ns - snapshot.last_market_data_ns) / _NS
        if age_s > limit:
            found.append(
                _breach(
                    BreachKind.STALE_MARKET_DATA,
                    age_s,
                    limit,
                    "market data is {value:.3f} s old, over max_market_data_age_s {limit} s",
                )
            )
    limit = limits.max_round_trip_s
    if snapshot.round_trip_s is not None and limit is not None and snapshot.round_trip_s > limit:
        found.append(
            _breach(
                BreachKind.LATENCY,
                snapshot.round_trip_s,
                limit,
                "round trip {value:.3f} s exceeds max_round_trip_s {limit} s",
            )
        )
    now, window = snapshot.now_ns, limits.rate_window_s
    limit = limits.max_rejects_per_window
    if limit is not None:
        rejects = _in_window(samples, now, window, 1)
        if rejects > limit:
            found.append(
                _breach(
                    BreachKind.REJECT_RATE,
                    rejects,
                    limit,
                    f"{{value}} rejects in {window:g} s exceed max_rejects_per_window {{limit}}",
                )
            )
    limit = limits.max_throttles_per_window
    if limit is not None:
        throttles = _in_window(samples, now, window, 2)
        if throttles > limit:
            found.append(
                _breach(
                    BreachKind.THROTTLE_RATE,
                    throttles,
                    limit,
                    f"{{value}} throttled requests in {window:g} s exceed"
                    " max_throttles_per_window {limit}",
                )
            )
    limit = limits.max_disconnects
    if limit is not None:
        disconnects = _in_window(samples, now, limits.disconnect_window_s, 3)
        if disconnects > limit:
            found.append(
                _breach(
                    BreachKind.DISCONNECTS,
                    disconnects,
                    limit,
                    f"{{value}} disconnects in {limits.disconnect_window_s:g} s exceed"
                    " max_disconnects {limit}",
                )
            )
    return tuple(found) if found else ()
