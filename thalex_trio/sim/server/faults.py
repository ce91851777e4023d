"""Fault injection plans: what goes wrong, how often, parsed from a one-line SPEC.

Grammar (items separated by commas, each kind at most once, whitespace ignored):

    SPEC     := ITEM ("," ITEM)*
    ITEM     := KIND "=" VALUE
    WHEN     := "at:" DURATION          once, DURATION after the server started
              | "every:" DURATION       periodically, first after DURATION
              | "rate:" FLOAT "/s"      Poisson arrivals at that rate
    DURATION := FLOAT ("ms" | "s" | "m")
    PROB     := FLOAT in [0, 1]         chance per message

    drop_connection=WHEN                close every socket abruptly (no close frame)
    delay=DURATION@PROB                 hold an outgoing frame (and the ones behind it)
    drop_notification=[SCOPE:]PROB      lose a subscription notification (never a reply); SCOPE
                                        `market` (public channels) or `private` (orders,
                                        portfolio, trades) limits it to those channels
    reject_insert=[CODE@]PROB           answer an insert with an error (default code 20)
    throttle=PROB | burst:N@WHEN        code 4 on a matching-engine request / on the next N
    malformed=PROB | WHEN               send a frame that is not JSON, before a real one / on time
    reconnect_notice=[DURATION@]WHEN    `system` reconnect notice, close after DURATION (10s)
    restart=(persist|wipe)[+DURATION]@WHEN
                                        close every socket, refuse connections for DURATION (1s),
                                        keep persistent orders (persist) or delete them (wipe)
    drop_mid_fill=PROB                  when a session's order fills, drop its socket before the
                                        fill is reported on it
    drop_mid_request=PROB               apply a matching-engine request, then drop its socket
                                        before the reply (the client is mid-plan)
    reorder=PROB                        hold an RPC reply until the socket's next frame has gone
    blackhole=WHEN                      every socket goes silent both ways (a partition) until
                                        the silence watchdog ends it (cancel-on-disconnect)
    latency=DURATION                    send every outgoing frame DURATION after it was queued
                                        (a slow link: everything late, in order, at full rate)

Example: `drop_connection=rate:0.01/s,delay=50ms@0.2,restart=persist@at:300s`.
`FaultPlan.parse(str(plan)) == plan`, and plans combine with `|` (the right side wins per kind).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from attrs import evolve, fields, frozen

if TYPE_CHECKING:
    from collections.abc import Callable


class FaultSpecError(ValueError):
    """A SPEC string that does not follow the grammar; the message says where and why."""


# -- values ------------------------------------------------------------------------------------


def _format_s(seconds: float) -> str:
    if seconds < 1.0 and round(seconds * 1000, 6).is_integer():
        return f"{round(seconds * 1000):d}ms"
    return f"{seconds:g}s"


@frozen
class At:
    """Once, `after_s` seconds after the server started."""

    after_s: float

    def __str__(self) -> str:
        return f"at:{_format_s(self.after_s)}"


@frozen
class Every:
    """Periodically every `period_s`, the first time one period after start."""

    period_s: float

    def __str__(self) -> str:
        return f"every:{_format_s(self.period_s)}"


@frozen
class Rate:
    """Poisson arrivals, `per_s` on average per second."""

    per_s: float

    def __str__(self) -> str:
        return f"rate:{self.per_s:g}/s"


When = At | Every | Rate
"""A time trigger."""


@frozen
class Chance:
    """Per message, with probability `p`."""

    p: float

    def __str__(self) -> str:
        return f"{self.p:g}"


@frozen
class ScopedChance:
    """Per message of one class of channels (`market` or `private`), with probability `p`."""

    scope: str
    p: float

    def __str__(self) -> str:
        return f"{self.scope}:{self.p:g}"


NOTIFICATION_SCOPES = ("market", "private")
"""Channel classes a `drop_notification` may be limited to."""


@frozen
class Delay:
    """Hold an outgoing frame for `delay_s` with probability `p` (frames stay in order)."""

    delay_s: float
    p: float

    def __str__(self) -> str:
        return f"{_format_s(self.delay_s)}@{self.p:g}"


@frozen
class Latency:
    """Every outgoing frame leaves `latency_s` after it was queued (frames stay in order)."""

    latency_s: float

    def __str__(self) -> str:
        return _format_s(self.latency_s)


@frozen
class RejectInsert:
    """Answer an insert with error `code` instead of submitting it, with probability `p`."""

    p: float
    code: int = 20  # TemporaryFailure: a transient refusal the bot must survive

    def __str__(self) -> str:
        return f"{self.p:g}" if self.code == 20 else f"{self.code}@{self.p:g}"


@frozen
class Burst:
    """At each trigger, the next `count` matching-engine requests of every socket get code 4."""

    count: int
    when: When

    def __str__(self) -> str:
        return f"burst:{self.count}@{self.when}"


@frozen
class ReconnectNotice:
    """`{"event": "reconnect"}` on `system`, then close every socket after `grace_s`."""

    when: When
    grace_s: float = 10.0

    def __str__(self) -> str:
        return str(self.when) if self.grace_s == 10.0 else f"{_format_s(self.grace_s)}@{self.when}"


@frozen
class Restart:
    """Close every socket and refuse new ones for `downtime_s`; keep or wipe resting orders."""

    when: When
    persist: bool = True
    downtime_s: float = 1.0

    def __str__(self) -> str:
        mode = "persist" if self.persist else "wipe"
        down = "" if self.downtime_s == 1.0 else f"+{_format_s(self.downtime_s)}"
        return f"{mode}{down}@{self.when}"


@frozen
class FaultPlan:
    """Which faults the simulator injects; None means never. Seeded by the server's seed."""

    drop_connection: When | None = None
    delay: Delay | None = None
    drop_notification: Chance | ScopedChance | None = None
    reject_insert: RejectInsert | None = None
    throttle: Chance | Burst | None = None
    malformed: Chance | When | None = None
    reconnect_notice: ReconnectNotice | None = None
    restart: Restart | None = None
    drop_mid_fill: Chance | None = None
    drop_mid_request: Chance | None = None
    reorder: Chance | None = None
    blackhole: When | None = None
    latency: Latency | None = None

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """Parse a SPEC (see the module docstring); raises FaultSpecError."""
        values: dict[str, object] = {}
        for raw in spec.split(","):
            item = "".join(raw.split())
            if not item:
                continue
            kind, eq, value = item.partition("=")
            if not eq or not value:
                raise FaultSpecError(f"{item!r}: expected KIND=VALUE")
            parser = _PARSERS.get(kind)
            if parser is None:
                known = ", ".join(_PARSERS)
                raise FaultSpecError(f"{kind!r}: unknown fault kind (known: {known})")
            if kind in values:
                raise FaultSpecError(f"{kind!r} given twice")
            try:
                values[kind] = parser(value)
            except FaultSpecError as exc:
                raise FaultSpecError(f"{kind}={value}: {exc}") from None
        # Each key is a field name and its value comes from that field's parser in _PARSERS.
        # type-ignore reason: each value was parsed for its field by the grammar; attrs validates it
        return evolve(cls(), **values)  # type: ignore[arg-type]

    def __str__(self) -> str:
        parts = []
        for attribute in fields(FaultPlan):
            value = getattr(self, attribute.name)
            if value is not None:
                parts.append(f"{attribute.name}={value}")
        return ",".join(parts)

    def __or__(self, other: FaultPlan) -> FaultPlan:
        """Both plans; where both configure a kind, `other`'s setting wins."""
        changes = {
            a.name: getattr(other, a.name)
            for a in fields(FaultPlan)
            if getattr(other, a.name) is not None
        }
        return evolve(self, **changes)

    @property
    def empty(self) -> bool:
        """True when nothing is injected."""
        return self == FaultPlan()


# -- parsing -----------------------------------------------------------------------------------

_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(ms|s|m)$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0}


def parse_duration_s(text: str) -> float:
    """`50ms`, `1.5s`, `2m` -> seconds; raises FaultSpecError."""
    match = _DURATION.match(text)
    if match is None:
        raise FaultSpecError(f"{text!r} is not a duration like 50ms, 2s or 1m")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def _positive_duration_s(text: str) -> float:
    seconds = parse_duration_s(text)
    if seconds <= 0:
        raise FaultSpecError(f"{text!r} must be longer than zero")
    return seconds


def _probability(text: str) -> float:
    try:
        p = float(text)
    except ValueError:
        raise FaultSpecError(f"{text!r} is not a probability between 0 and 1") from None
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise FaultSpecError(f"{text!r} is not a probability between 0 and 1")
    return p


def parse_when(text: str) -> When:
    """`at:30s`, `every:60s` or `rate:0.01/s`; raises FaultSpecError."""
    head, colon, rest = text.partition(":")
    if colon:
        if head == "at":
            return At(parse_duration_s(rest))
        if head == "every":
            return Every(_positive_duration_s(rest))
        if head == "rate" and rest.endswith("/s"):
            try:
                per_s = float(rest[:-2])
            except ValueError:
                per_s = math.nan
            if not (math.isfinite(per_s) and per_s > 0):
                raise FaultSpecError(f"{rest!r} is not a positive rate like 0.01/s")
            return Rate(per_s)
    raise FaultSpecError(f"{text!r} is not a time trigger (at:30s, every:60s or rate:0.01/s)")


def _split_at(text: str) -> tuple[str, str]:
    head, at, tail = text.partition("@")
    if not at or not head or not tail:
        raise FaultSpecError(f"{text!r}: expected VALUE@TRIGGER")
    return head, tail


def _parse_delay(text: str) -> Delay:
    duration, p = _split_at(text)
    return Delay(_positive_duration_s(duration), _probability(p))


def _parse_drop_notification(text: str) -> Chance | ScopedChance:
    scope, colon, p = text.rpartition(":")
    if not colon:
        return Chance(_probability(text))
    if scope not in NOTIFICATION_SCOPES:
        raise FaultSpecError(f"{scope!r}: expected {' or '.join(NOTIFICATION_SCOPES)}")
    return ScopedChance(scope, _probability(p))


def _parse_reject(text: str) -> RejectInsert:
    if "@" not in text:
        return RejectInsert(_probability(text))
    code, p = _split_at(text)
    if not code.isdigit() or int(code) <= 0:
        raise FaultSpecError(f"{code!r} is not a positive error code")
    return RejectInsert(_probability(p), int(code))


def _parse_throttle(text: str) -> Chance | Burst:
    if not text.startswith("burst:"):
        return Chance(_probability(text))
    count, when = _split_at(text.removeprefix("burst:"))
    if not count.isdigit() or int(count) <= 0:
        raise FaultSpecError(f"{count!r} is not a positive message count")
    return Burst(int(count), parse_when(when))


def _parse_malformed(text: str) -> Chance | When:
    return parse_when(text) if ":" in text else Chance(_probability(text))


def _parse_reconnect(text: str) -> ReconnectNotice:
    if "@" not in text:
        return ReconnectNotice(parse_when(text))
    grace, when = _split_at(text)
    return ReconnectNotice(parse_when(when), parse_duration_s(grace))


def _parse_restart(text: str) -> Restart:
    mode, when = _split_at(text)
    mode, plus, downtime = mode.partition("+")
    if mode not in ("persist", "wipe"):
        raise FaultSpecError(f"{mode!r}: expected persist or wipe")
    downtime_s = parse_duration_s(downtime) if plus else 1.0
    return Restart(parse_when(when), mode == "persist", downtime_s)


def _parse_chance(text: str) -> Chance:
    return Chance(_probability(text))


def _parse_latency(text: str) -> Latency:
    return Latency(_positive_duration_s(text))


_PARSERS: dict[str, Callable[[str], object]] = {
    "drop_connection": parse_when,
    "delay": _parse_delay,
    "drop_notification": _parse_drop_notification,
    "reject_insert": _parse_reject,
    "throttle": _parse_throttle,
    "malformed": _parse_malformed,
    "reconnect_notice": _parse_reconnect,
    "restart": _parse_restart,
    "drop_mid_fill": _parse_chance,
    "drop_mid_request": _parse_chance,
    "reorder": _parse_chance,
    "blackhole": parse_when,
    "latency": _parse_latency,
}
