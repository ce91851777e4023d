"""The fault schedule of a soak: which faults, in what order, when and how hard, from a seed.

Times count from the moment the bot first quotes. A schedule opens with a quiet warm-up (the
memory baseline is taken at its end), then runs episodes, one fault kind each, in seeded
random order, every kind once per cycle, and closes with a quiet tail. An episode is planned
to start at `not_before_s`; the harness also waits for the bot to have recovered from the
previous fault (up to the recovery bound), so each fault meets a bot that is quoting.

A full schedule gives every episode a window of `FULL_WINDOW_S` and `FULL_SETTLE_S` of calm
after it, and repeats cycles until the duration is used. A duration too short for one full
cycle gets the compressed timing instead (3 s windows, 1 s of planned calm): still every kind
once, which is what the one-minute CI soak runs.

Pure: no I/O, no clock; the same seed, duration and kinds give the same schedule.
"""

from __future__ import annotations

import enum
import random
from typing import TYPE_CHECKING, assert_never

from attrs import frozen

from thalex_trio.sim.server.faults import (
    Chance,
    Delay,
    FaultPlan,
    Latency,
    RejectInsert,
    ScopedChance,
)

if TYPE_CHECKING:
    from collections.abc import Sequence


class FaultKind(enum.Enum):
    """One kind of trouble the soak makes; the value is its name on the command line."""

    DROP_CONNECTION = "drop_connection"
    """The simulator drops the socket without a close frame."""
    DROP_MID_FILL = "drop_mid_fill"
    """The socket dies as one of our orders fills, before the fill is reported on it."""
    DROP_MID_PLAN = "drop_mid_plan"
    """The socket dies right after a request of ours took effect, before its reply."""
    DELAY = "delay"
    """Outgoing frames arrive late: all of them by a fixed latency (in order, at full rate),
    a few of them later still (held, with the frames behind them)."""
    REORDER = "reorder"
    """A reply is overtaken by the next frame on its socket."""
    DROP_MARKET_NOTIFICATION = "drop_market_notification"
    """Public market-data notifications are lost."""
    DROP_ORDER_NOTIFICATION = "drop_order_notification"
    """Private notifications (our orders, portfolio) are lost."""
    REJECT_INSERT = "reject_insert"
    """Inserts are refused with a temporary failure (code 20)."""
    THROTTLE_BURST = "throttle_burst"
    """The next N matching-engine requests are throttled (code 4)."""
    MALFORMED = "malformed"
    """Frames that are not JSON, one at once and then by chance per notification."""
    RECONNECT_NOTICE = "reconnect_notice"
    """The exchange's `system` reconnect notice, the socket closed after a grace period."""
    RESTART = "restart"
    """The simulator restarts: every socket closed, connections refused for a while,
    persistent orders kept."""
    DB_OUTAGE = "db_outage"
    """The bot's PostgreSQL server is stopped for a while, then started again."""
    PARTITION = "partition"
    """Every socket goes silent both ways (a network partition) until the simulator's
    silence watchdog ends the session: cancel-on-disconnect must remove our orders."""

    @property
    def ends_session(self) -> bool:
        """True when the fault ends the bot's connection: recovery needs a new session."""
        return self in _SESSION_ENDING


_SESSION_ENDING = frozenset(
    {
        FaultKind.DROP_CONNECTION,
        FaultKind.DROP_MID_FILL,
        FaultKind.DROP_MID_PLAN,
        FaultKind.RECONNECT_NOTICE,
        FaultKind.RESTART,
        FaultKind.PARTITION,
    }
)

ARMED_KINDS = frozenset({FaultKind.DROP_MID_FILL, FaultKind.DROP_MID_PLAN})
"""Kinds that wait, armed, for their moment (a fill, a request) within their window and are
disarmed once they happened."""

FULL_WARM_UP_S = 30.0
"""Quiet start of a full schedule: the bot settles and its memory baseline is taken."""

FULL_WINDOW_S = 10.0
"""How long a full schedule's probabilistic fault stays in force (armed kinds: at most)."""

FULL_SETTLE_S = 20.0
"""Calm planned after each episode of a full schedule, besides waiting for recovery."""

FULL_TAIL_S = 30.0
"""Quiet end of a full schedule: the last recovery is seen before the bot is stopped."""

COMPRESSED_WARM_UP_S = 10.0
COMPRESSED_WINDOW_S = 3.0
COMPRESSED_SETTLE_S = 1.0
COMPRESSED_TAIL_S = 5.0


@frozen
class Episode:
    """One fault of the schedule and its parameters.

    `window_s` is how long a probabilistic fault stays in force, the longest an armed one
    waits for its moment, or how long a restart refuses connections / the database stays
    down (`downtime_s`, the same value); zero for faults that happen at once.
    """

    kind: FaultKind
    not_before_s: float
    window_s: float = 0.0
    probability: float = 0.0
    delay_s: float = 0.0
    latency_s: float = 0.0
    count: int = 0
    grace_s: float = 0.0

    @property
    def downtime_s(self) -> float:
        """How long a restart refuses connections or the database is down."""
        return self.window_s if self.kind in (FaultKind.RESTART, FaultKind.DB_OUTAGE) else 0.0

    def sim_plan(self) -> FaultPlan:
        """The simulator's fault plan in force during the window (empty for the faults the
        harness fires itself)."""
        p = self.probability
        match self.kind:
            case FaultKind.DELAY:
                return FaultPlan(delay=Delay(self.delay_s, p), latency=Latency(self.latency_s))
            case FaultKind.REORDER:
                return FaultPlan(reorder=Chance(p))
            case FaultKind.DROP_MARKET_NOTIFICATION:
                return FaultPlan(drop_notification=ScopedChance("market", p))
            case FaultKind.DROP_ORDER_NOTIFICATION:
                return FaultPlan(drop_notification=ScopedChance("private", p))
            case FaultKind.REJECT_INSERT:
                return FaultPlan(reject_insert=RejectInsert(p))
            case FaultKind.MALFORMED:
                return FaultPlan(malformed=Chance(p))
            case FaultKind.DROP_MID_FILL:
                return FaultPlan(drop_mid_fill=Chance(p))
            case FaultKind.DROP_MID_PLAN:
                return FaultPlan(drop_mid_request=Chance(p))
            case _:
                return FaultPlan()

    def describe(self) -> str:
        """What the episode does, in a few words (the simulator's SPEC where there is one)."""
        match self.kind:
            case FaultKind.THROTTLE_BURST:
                return f"next {self.count} engine requests throttled"
            case FaultKind.RECONNECT_NOTICE:
                return f"reconnect notice, close after {self.grace_s:.1f} s"
            case FaultKind.RESTART:
                return f"restart keeping persistent orders, down {self.window_s:.1f} s"
            case FaultKind.DB_OUTAGE:
                return f"PostgreSQL stopped for {self.window_s:.1f} s"
            case FaultKind.DROP_CONNECTION | FaultKind.PARTITION:
                return str(self.kind.value).replace("_", " ")
            case FaultKind.MALFORMED:
                return f"one malformed frame, then {self.sim_plan()} for {self.window_s:.1f} s"
            case _:
                return f"{self.sim_plan()} for {self.window_s:.1f} s"


@frozen
class Schedule:
    """Episodes in order, and the quiet phases around them (seconds from the first quote)."""

    episodes: tuple[Episode, ...]
    warm_up_s: float
    tail_s: float
    compressed: bool

    @property
    def kinds(self) -> frozenset[FaultKind]:
        """Every kind the schedule injects."""
        return frozenset(e.kind for e in self.episodes)


def parse_kinds(spec: str) -> tuple[FaultKind, ...]:
    """`all`, or kind names separated by commas; `all,-kind` leaves one out. Raises ValueError."""
    chosen: list[FaultKind] = []
    for raw in spec.split(","):
        name = raw.strip()
        if not name:
            continue
        if name == "all":
            chosen.extend(k for k in FaultKind if k not in chosen)
            continue
        remove = name.startswith("-")
        try:
            kind = FaultKind(name.removeprefix("-"))
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault kind {name!r} (known: all, {known})") from None
        if remove:
            chosen = [k for k in chosen if k is not kind]
        elif kind not in chosen:
            chosen.append(kind)
    if not chosen:
        raise ValueError(f"{spec!r} names no fault kind")
    return tuple(chosen)


def build_schedule(seed: int, duration_s: float, kinds: Sequence[FaultKind]) -> Schedule:
    """The episodes for a soak quoting for `duration_s` seconds (see the module docstring)."""
    if not kinds:
        raise ValueError("a schedule needs at least one fault kind")
    rng = random.Random(f"soak:{seed}")
    full_cycle_s = sum(_slot_s(k, compressed=False) for k in kinds)
    compressed = FULL_WARM_UP_S + full_cycle_s + FULL_TAIL_S > duration_s
    warm_up_s = COMPRESSED_WARM_UP_S if compressed else FULL_WARM_UP_S
    tail_s = COMPRESSED_TAIL_S if compressed else FULL_TAIL_S
    episodes: list[Episode] = []
    start_s = warm_up_s
    first_cycle = True
    while True:
        order = sorted(kinds, key=lambda k: k.value)
        rng.shuffle(order)
        for kind in order:
            slot_s = _slot_s(kind, compressed=compressed)
            if not first_cycle and start_s + slot_s + tail_s > duration_s:
                return Schedule(tuple(episodes), warm_up_s, tail_s, compressed)
            episodes.append(_episode(kind, start_s, rng, compressed=compressed))
            start_s += slot_s
        if compressed:
            return Schedule(tuple(episodes), warm_up_s, tail_s, compressed)
        first_cycle = False


def _slot_s(kind: FaultKind, *, compressed: bool) -> float:
    """Time planned for one episode: its longest window plus the calm after it."""
    window_s = _WINDOW_MAX_S[kind] * (COMPRESSED_WINDOW_S / FULL_WINDOW_S if compressed else 1.0)
    return window_s + (COMPRESSED_SETTLE_S if compressed else FULL_SETTLE_S)


_WINDOW_MAX_S = {
    FaultKind.DROP_CONNECTION: 0.0,
    FaultKind.DROP_MID_FILL: FULL_WINDOW_S,
    FaultKind.DROP_MID_PLAN: FULL_WINDOW_S,
    FaultKind.DELAY: FULL_WINDOW_S,
    FaultKind.REORDER: FULL_WINDOW_S,
    FaultKind.DROP_MARKET_NOTIFICATION: FULL_WINDOW_S,
    FaultKind.DROP_ORDER_NOTIFICATION: FULL_WINDOW_S,
    FaultKind.REJECT_INSERT: FULL_WINDOW_S,
    FaultKind.THROTTLE_BURST: 0.0,
    FaultKind.MALFORMED: FULL_WINDOW_S,
    FaultKind.RECONNECT_NOTICE: 5.0,
    FaultKind.RESTART: 4.0,
    FaultKind.DB_OUTAGE: 20.0,
    FaultKind.PARTITION: 0.0,
}
"""The longest window each kind may draw in a full schedule (the reconnect notice's is its
grace period, which does not delay the bot's reconnection)."""


def _episode(kind: FaultKind, start_s: float, rng: random.Random, *, compressed: bool) -> Episode:
    """One episode with seeded parameters; compressed ones are shorter, not milder."""
    window_s = COMPRESSED_WINDOW_S if compressed else FULL_WINDOW_S
    match kind:
        case FaultKind.DROP_CONNECTION | FaultKind.PARTITION:
            return Episode(kind, start_s)
        case FaultKind.DROP_MID_FILL:
            # Armed at certainty: the first fill of ours within the window drops the socket.
            return Episode(kind, start_s, window_s, probability=1.0)
        case FaultKind.DROP_MID_PLAN:
            # Less than certain, so the drop tends to land between actions of a plan.
            return Episode(kind, start_s, window_s, probability=round(rng.uniform(0.2, 0.5), 2))
        case FaultKind.DELAY:
            # The holds stay rare: each one stalls the frames queued behind it, and at some
            # 75 frames a second a frequent one would back the link up without bound.
            return Episode(
                kind,
                start_s,
                window_s,
                probability=round(rng.uniform(0.01, 0.03), 3),
                delay_s=round(rng.uniform(0.05, 0.15), 3),
                latency_s=round(rng.uniform(0.1, 0.8), 3),
            )
        case FaultKind.REORDER:
            return Episode(kind, start_s, window_s, probability=round(rng.uniform(0.2, 0.5), 2))
        case FaultKind.DROP_MARKET_NOTIFICATION | FaultKind.DROP_ORDER_NOTIFICATION:
            return Episode(kind, start_s, window_s, probability=round(rng.uniform(0.05, 0.2), 2))
        case FaultKind.REJECT_INSERT:
            return Episode(kind, start_s, window_s, probability=round(rng.uniform(0.1, 0.3), 2))
        case FaultKind.THROTTLE_BURST:
            return Episode(kind, start_s, count=rng.randint(5, 20))
        case FaultKind.MALFORMED:
            return Episode(kind, start_s, window_s, probability=round(rng.uniform(0.02, 0.1), 3))
        case FaultKind.RECONNECT_NOTICE:
            grace_max_s = 2.0 if compressed else _WINDOW_MAX_S[kind]
            return Episode(kind, start_s, grace_s=round(rng.uniform(1.0, grace_max_s), 2))
        case FaultKind.RESTART:
            down_max_s = 2.0 if compressed else _WINDOW_MAX_S[kind]
            return Episode(kind, start_s, round(rng.uniform(1.0, down_max_s), 2))
        case FaultKind.DB_OUTAGE:
            low_s, high_s = (3.0, 5.0) if compressed else (5.0, _WINDOW_MAX_S[kind])
            return Episode(kind, start_s, round(rng.uniform(low_s, high_s), 2))
        case _:
            assert_never(kind)
