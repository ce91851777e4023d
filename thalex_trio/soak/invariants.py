"""What a soak holds the bot to while it runs, checked on observations of the simulator (pure,
no I/O).

The harness turns the simulator's state into an `Observation` every poll and feeds these
checks; `end_checks` holds the ones that need the whole run. Each check ends in an
`InvariantResult`: its name, the promise in words, PASS or FAIL, and the evidence.
"""

from __future__ import annotations

from attrs import define, field, frozen

from thalex_trio.soak.schedule import FaultKind


@frozen
class SimOrder:
    """One of our orders resting at the simulator (`side_sign` +1 buy, -1 sell).

    `placed_s` is when it was first seen at its current price and size (seconds from the
    soak's origin): an insert or an amend of the bot's, not a fill.
    """

    session_id: int
    client_order_id: int | None
    side_sign: int
    remaining_lots: int
    amount_lots: int
    filled_lots: int
    price_ticks: int = 0
    placed_s: float = 0.0


@frozen
class SimRequest:
    """A request of ours the simulator's engine has taken but not yet answered.

    `kind` is insert, amend, cancel or other; `side_sign` is known for inserts (0 otherwise);
    `amount_lots` is an insert's size or an amend's new size.
    """

    session_id: int
    kind: str
    client_order_id: int | None
    side_sign: int
    amount_lots: int


@frozen
class SimSession:
    """A connection at the simulator: how long it has been silent (nothing received), its
    cancel-on-disconnect timeout (None: its orders are persistent), whether a partition cut
    it off."""

    session_id: int
    silent_s: float
    cancel_on_disconnect_s: float | None
    partitioned: bool


@frozen
class Observation:
    """The simulator's state at `t_s` (seconds from the soak's origin; `wall_ns` the same
    moment on the wall clock the bot stamps its store rows with)."""

    t_s: float
    wall_ns: int
    position_lots: int
    orders: tuple[SimOrder, ...] = ()
    in_flight: tuple[SimRequest, ...] = ()
    sessions: tuple[SimSession, ...] = ()

    def session(self, session_id: int) -> SimSession | None:
        """The connection of `session_id`, None when it has none."""
        for session in self.sessions:
            if session.session_id == session_id:
                return session
        return None

    @property
    def newest_session_id(self) -> int | None:
        """The most recent connection's session (the bot's current one, if it is connected)."""
        return max((s.session_id for s in self.sessions), default=None)


@frozen
class InvariantResult:
    """One invariant's verdict with its evidence."""

    name: str
    statement: str
    passed: bool
    detail: str

    @property
    def verdict(self) -> str:
        """PASS or FAIL."""
        return "PASS" if self.passed else "FAIL"


MAX_EXAMPLES = 5
"""Violations quoted in a result (the rest are only counted)."""


# -- cancel-on-disconnect ----------------------------------------------------------------------


@define
class CancelOnDisconnectCheck:
    """No order of ours rests on a dead connection beyond the cancel-on-disconnect window.

    An order on a session with no socket, or one silent for longer than its
    cancel-on-disconnect timeout, is overdue; it fails once overdue by more than
    `tolerance_s` (the simulator's watchdog tick plus the poll interval). An order on a
    session without cancel-on-disconnect fails at once: the bot must never rest persistent
    orders.
    """

    window_s: float
    tolerance_s: float
    worst_overdue_s: float = 0.0
    violations: list[str] = field(factory=list)
    _gone_since: dict[int, float] = field(factory=dict)

    def observe(self, obs: Observation) -> None:
        """Check one observation."""
        gone_now: set[int] = set()
        for order in obs.orders:
            session = obs.session(order.session_id)
            if session is None:
                gone_now.add(order.session_id)
                first = self._gone_since.setdefault(order.session_id, obs.t_s)
                overdue_s = obs.t_s - first
                why = "its connection is gone"
            elif session.cancel_on_disconnect_s is None:
                overdue_s = float("inf")
                why = "its session has no cancel-on-disconnect"
            else:
                overdue_s = session.silent_s - session.cancel_on_disconnect_s
                why = f"its connection has been silent {session.silent_s:.1f} s"
            self.worst_overdue_s = max(self.worst_overdue_s, overdue_s)
            if overdue_s > self.tolerance_s and len(self.violations) < MAX_EXAMPLES:
                self.violations.append(
                    f"t={obs.t_s:.1f}s order {order.client_order_id} of session "
                    f"{order.session_id} rests although {why}"
                )
        for session_id in set(self._gone_since) - gone_now:
            del self._gone_since[session_id]

    def result(self) -> InvariantResult:
        """The verdict so far."""
        return InvariantResult(
            "cancel_on_disconnect",
            f"no order of ours rests at the simulator more than {self.tolerance_s:g} s beyond "
            f"the {self.window_s:g} s cancel-on-disconnect window of a dead connection",
            not self.violations,
            "; ".join(self.violations)
            or f"worst: {max(self.worst_overdue_s, -self.window_s):+.2f} s against the window",
        )


# -- exposure ----------------------------------------------------------------------------------


def worst_case_lots(obs: Observation) -> tuple[int, int]:
    """(buy, sell) worst-case exposure: the position plus every resting order of that side
    and every insert or size increase in flight, as if all of them filled."""
    buy = obs.position_lots
    sell = -obs.position_lots
    by_id = {(o.session_id, o.client_order_id): o for o in obs.orders}
    for order in obs.orders:
        if order.side_sign > 0:
            buy += order.remaining_lots
        else:
            sell += order.remaining_lots
    for request in obs.in_flight:
        extra, side = 0, request.side_sign
        if request.kind == "insert":
            extra = request.amount_lots
        elif request.kind == "amend":
            target = by_id.get((request.session_id, request.client_order_id))
            if target is not None:
                side = target.side_sign
                grown = request.amount_lots - target.filled_lots - target.remaining_lots
                extra = max(grown, 0)
        if side > 0:
            buy += extra
        elif side < 0:
            sell += extra
    return buy, sell


@define
class ExposureCheck:
    """Position plus resting and in-flight orders never exceeds the limit, per side."""

    limit_lots: int
    worst_lots: int = 0
    worst_at_s: float = 0.0
    max_abs_position_lots: int = 0
    violations: list[str] = field(factory=list)

    def observe(self, obs: Observation) -> None:
        """Check one observation."""
        buy, sell = worst_case_lots(obs)
        worst = max(buy, sell)
        self.max_abs_position_lots = max(self.max_abs_position_lots, abs(obs.position_lots))
        if worst > self.worst_lots:
            self.worst_lots, self.worst_at_s = worst, obs.t_s
        if worst > self.limit_lots and len(self.violations) < MAX_EXAMPLES:
            self.violations.append(
                f"t={obs.t_s:.1f}s worst case buy {buy} / sell {sell} lots "
                f"(position {obs.position_lots})"
            )

    def result(self) -> InvariantResult:
        """The verdict so far."""
        return InvariantResult(
            "exposure_limit",
            f"position + resting + in-flight orders, at the worst case per side, never exceed "
            f"the configured {self.limit_lots} lots (risk.max_exposure_lots)",
            not self.violations,
            "; ".join(self.violations)
            or f"worst {self.worst_lots} lots at t={self.worst_at_s:.1f}s; "
            f"largest |position| {self.max_abs_position_lots} lots",
        )


# -- quoting and recovery ----------------------------------------------------------------------


def is_quoting(
    obs: Observation, *, newer_than_session: int | None = None, placed_since_s: float | None = None
) -> bool:
    """True when we rest at least one bid and one ask on a live connection (not cut off, not
    silent past its window), newer than `newer_than_session` and placed (inserted or amended)
    at or after `placed_since_s` when given: quotes the bot keeps up, not leftovers."""
    sides: set[int] = set()
    for order in obs.orders:
        if newer_than_session is not None and order.session_id <= newer_than_session:
            continue
        if placed_since_s is not None and order.placed_s < placed_since_s:
            continue
        session = obs.session(order.session_id)
        if session is None or session.partitioned:
            continue
        window_s = session.cancel_on_disconnect_s
        if window_s is not None and session.silent_s > window_s:
            continue
        sides.add(order.side_sign)
    return sides >= {1, -1}


@frozen
class InjectedFault:
    """A fault as it happened: when it began and ended (seconds from the origin), and for
    session-ending faults the newest session it could have ended."""

    kind: FaultKind
    start_s: float
    end_s: float
    detail: str
    ended_session: int | None = None


@frozen
class Recovery:
    """How long after `fault` ended the bot quoted both sides again (None: never did)."""

    fault: InjectedFault
    recovery_s: float | None


@define
class RecoveryTracker:
    """Time from each fault's end to the first observation of two-sided quoting with orders
    placed or amended since then (on a newer session, for faults that end the session)."""

    bound_s: float
    recoveries: list[Recovery] = field(factory=list)
    _pending: list[InjectedFault] = field(factory=list)

    def fault(self, fault: InjectedFault) -> None:
        """A fault happened (its recovery is measured from `fault.end_s`)."""
        self._pending.append(fault)

    @property
    def waiting(self) -> bool:
        """True while some fault has not been recovered from."""
        return bool(self._pending)

    @property
    def pending(self) -> tuple[InjectedFault, ...]:
        """The faults not yet recovered from."""
        return tuple(self._pending)

    def observe(self, obs: Observation) -> None:
        """Mark the faults this observation shows recovered."""
        still: list[InjectedFault] = []
        for fault in self._pending:
            newer = fault.ended_session if fault.kind.ends_session else None
            if obs.t_s >= fault.end_s and is_quoting(
                obs, newer_than_session=newer, placed_since_s=fault.end_s
            ):
                self.recoveries.append(Recovery(fault, obs.t_s - fault.end_s))
            else:
                still.append(fault)
        self._pending = still

    def close(self) -> None:
        """The run is over: what is still pending never recovered."""
        self.recoveries.extend(Recovery(f, None) for f in self._pending)
        self._pending = []
        self.recoveries.sort(key=lambda r: r.fault.start_s)

    def result(self) -> InvariantResult:
        """The verdict over every fault (call `close` first)."""
        late = [r for r in self.recoveries if r.recovery_s is None or r.recovery_s > self.bound_s]
        measured = [r.recovery_s for r in self.recoveries if r.recovery_s is not None]
        detail = "; ".join(
            f"{r.fault.kind.value} at t={r.fault.start_s:.1f}s: "
            + ("never" if r.recovery_s is None else f"{r.recovery_s:.1f} s")
            for r in late[:MAX_EXAMPLES]
        )
        if not detail:
            detail = (
                f"{len(measured)} recoveries, longest {max(measured):.1f} s"
                if measured
                else "no fault to recover from"
            )
        return InvariantResult(
            "quoting_recovers",
            f"after every fault the bot quotes both sides again, with orders placed or amended "
            f"since, within {self.bound_s:g} s",
            not late,
            detail,
        )


# -- the bot's view after a reconnection -------------------------------------------------------


@define
class ReconnectCheck:
    """When the bot says it is ready on a new session (its snapshot done, leftovers
    cancelled, its order book empty), the simulator must hold no order of ours from an older
    session: the bot's open orders and the simulator's are the same."""

    readies: int = 0
    violations: list[str] = field(factory=list)

    def on_ready(self, obs: Observation) -> None:
        """The bot announced a (re)start's readiness; `obs` is the simulator right after."""
        self.readies += 1
        newest = obs.newest_session_id
        stale = [o for o in obs.orders if o.session_id != newest]
        if stale and len(self.violations) < MAX_EXAMPLES:
            ids = ", ".join(f"{o.client_order_id} (session {o.session_id})" for o in stale)
            self.violations.append(
                f"t={obs.t_s:.1f}s ready on session {newest} with older orders {ids}"
            )

    def result(self) -> InvariantResult:
        """The verdict so far."""
        return InvariantResult(
            "orders_agree_after_reconnect",
            "each time the bot is ready on a new session (its order book rebuilt from the "
            "snapshot), the simulator holds no order of ours from an older session",
            not self.violations and self.readies > 0,
            "; ".join(self.violations) or f"{self.readies} (re)starts checked",
        )
