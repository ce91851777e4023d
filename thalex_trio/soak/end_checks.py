"""The end-of-run invariants: the bot's recorded view against the simulator's, the fills and
the position in the store, memory, and fault coverage (pure, no I/O)."""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

from attrs import frozen

from thalex_trio.soak.invariants import MAX_EXAMPLES, InvariantResult

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from thalex_trio.soak.schedule import FaultKind


@frozen
class BotOrderEvent:
    """One order event the bot recorded in the store (`state` is its `OrderState` value)."""

    local_ns: int
    client_order_id: int
    state: str


_TERMINAL = "terminal"


class BotView:
    """The bot's open orders over time, replayed from its order events in time order.

    An order is open while its latest event is not terminal. A new session starts with no
    orders (the old session's died with it, and the bot forgets them), so `open_at` counts
    only orders whose latest event came after the current session began.
    """

    def __init__(self, events: Sequence[BotOrderEvent]) -> None:
        self._events = sorted(events, key=lambda e: e.local_ns)
        self._next = 0
        self._latest_ns: dict[int, int] = {}  # open orders: client id -> latest event time

    def open_at(self, at_ns: int, session_start_ns: int) -> frozenset[int]:
        """Open orders at `at_ns` (calls must come in time order)."""
        events = self._events
        while self._next < len(events) and events[self._next].local_ns <= at_ns:
            event = events[self._next]
            self._next += 1
            if event.state == _TERMINAL:
                self._latest_ns.pop(event.client_order_id, None)
            else:
                self._latest_ns[event.client_order_id] = event.local_ns
        return frozenset(cid for cid, t in self._latest_ns.items() if t >= session_start_ns)


@frozen
class SimSnapshot:
    """Our orders open at the simulator at `wall_ns` (client ids), when the bot's current
    session began there, and whether that session is alive (the bot is connected)."""

    wall_ns: int
    session_start_ns: int
    connected: bool
    open_ids: frozenset[int]


def views_agree(
    snapshots: Sequence[SimSnapshot], events: Sequence[BotOrderEvent], persist_s: float
) -> InvariantResult:
    """While the bot is connected, its open orders (from its store) equal the simulator's at
    every snapshot, but for differences shorter than `persist_s` (messages on their way).
    While it is not connected its view is stale by necessity: those snapshots are skipped."""
    view = BotView(events)
    since: dict[int, int] = {}  # client id -> first snapshot of an unbroken disagreement
    reported: set[int] = set()
    longest = (0, 0)  # ns, client id
    compared = 0
    failures: list[str] = []
    for snap in snapshots:
        bot = view.open_at(snap.wall_ns, snap.session_start_ns)
        if not snap.connected:
            since.clear()
            reported.clear()
            continue
        compared += 1
        differing = bot ^ snap.open_ids
        for cid in set(since) - differing:
            del since[cid]
            reported.discard(cid)
        for cid in differing:
            lasted_ns = snap.wall_ns - since.setdefault(cid, snap.wall_ns)
            longest = max(longest, (lasted_ns, cid))
            if lasted_ns > persist_s * 1e9 and cid not in reported:
                reported.add(cid)
                if len(failures) < MAX_EXAMPLES:
                    where = "only the bot's" if cid in bot else "only the simulator's"
                    failures.append(f"order {cid} was in {where} view for over {persist_s:g} s")
    summary = (
        f"longest difference {longest[0] / 1e9:.2f} s (order {longest[1]})"
        if longest[0]
        else "no difference"
    )
    return InvariantResult(
        "orders_agree_continuously",
        f"while connected, the bot's open orders (its store) equal the simulator's at every "
        f"poll, differences shorter than {persist_s:g} s aside (messages on their way)",
        not failures and compared > 0,
        "; ".join(failures) or f"{compared} polls compared; {summary}",
    )


def fills_exactly_once(
    sim_trade_ids: Iterable[str],
    store_trade_ids: Iterable[str],
    describe: Mapping[str, str] | None = None,
) -> InvariantResult:
    """Every fill the simulator made for us is in the store once, and nothing else is.
    `describe` says more about a simulator fill (its side, size, time) for the detail."""
    sim = collections.Counter(sim_trade_ids)
    store = collections.Counter(store_trade_ids)
    missing = sorted(set(sim) - set(store))
    unknown = sorted(set(store) - set(sim))
    doubled = sorted(t for t, n in store.items() if n > 1)
    problems = []
    if missing:
        about = describe or {}
        shown = ", ".join(f"{t} ({about.get(t, '?')})" for t in missing[:MAX_EXAMPLES])
        problems.append(f"{len(missing)} missing from the store: {shown}")
    if doubled:
        problems.append(f"{len(doubled)} stored more than once (first {doubled[0]})")
    if unknown:
        problems.append(f"{len(unknown)} stored but never made (first {unknown[0]})")
    return InvariantResult(
        "fills_stored_exactly_once",
        "every fill the simulator made for our account is in the store exactly once",
        not problems,
        "; ".join(problems) or f"{sum(sim.values())} fills, each stored once",
    )


def positions_agree(sim_lots: int, store_lots: int | None, bot_lots: int | None) -> InvariantResult:
    """The bot's final position, from its store and from its own summary, is the simulator's."""
    problems = []
    if store_lots != sim_lots:
        problems.append(f"store {store_lots} lots")
    if bot_lots != sim_lots:
        problems.append(f"bot's summary {bot_lots} lots")
    return InvariantResult(
        "final_position_agrees",
        "the bot's final position (sum of its stored fills, and its exit summary) equals the "
        "simulator's",
        not problems,
        (f"simulator {sim_lots} lots vs " + ", ".join(problems))
        if problems
        else f"{sim_lots} lots everywhere",
    )


def memory_bounded(
    warm_rss_bytes: int | None, end_rss_bytes: int | None, factor: float
) -> InvariantResult:
    """RSS at the end within `factor` times RSS after the warm-up."""
    statement = f"the bot's RSS at the end is within {factor:g}x its RSS after the warm-up"
    if not warm_rss_bytes or not end_rss_bytes:
        return InvariantResult("memory_bounded", statement, False, "RSS was not measured")
    ratio = end_rss_bytes / warm_rss_bytes
    return InvariantResult(
        "memory_bounded",
        statement,
        ratio <= factor,
        f"{warm_rss_bytes / 2**20:.1f} MiB -> {end_rss_bytes / 2**20:.1f} MiB ({ratio:.2f}x)",
    )


def every_kind_injected(
    wanted: Iterable[FaultKind], injected: Iterable[FaultKind]
) -> InvariantResult:
    """Every fault kind asked for happened at least once."""
    missing = sorted(k.value for k in set(wanted) - set(injected))
    return InvariantResult(
        "every_fault_injected",
        "every fault kind of the schedule was injected at least once",
        not missing,
        f"never happened: {', '.join(missing)}" if missing else "all kinds injected",
    )
