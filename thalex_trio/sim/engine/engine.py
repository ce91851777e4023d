"""`MatchingEngine`: the simulated exchange driven by explicit time.

Market events are fed per instrument (`feed`) and applied in exchange time by the numba kernel;
requests (`submit`) take effect after their entry latency, in order per session; reports come
out after the response latency (`drain_reports`). Between kernel batches the Python layer does
everything that happens at one instant: requests, our fills and what follows them (MM
protection, reduce-only recaps, positions), funding. At equal timestamps market events come
before a request, so a request sees the book as of its effective time.

With several instruments, each instrument's events are applied up to the next request or
funding time one instrument after the other, so fills on different instruments between two
such times are not interleaved in time order.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

from thalex_trio.domain.enums import ChangeReason, InstrumentKind, Liquidity, Side
from thalex_trio.domain.market import BookLevel, TopOfBook
from thalex_trio.sim.engine import handlers
from thalex_trio.sim.engine import kernel as k
from thalex_trio.sim.engine.book import BookState
from thalex_trio.sim.engine.exchange import Exchange, Session, product_of
from thalex_trio.sim.engine.latency import LatencySampler
from thalex_trio.sim.engine.params import EngineParams, QueueModel
from thalex_trio.sim.engine.reports import (
    OrderReport,
    Rejection,
    Report,
    RequestId,
    RequestResult,
    SessionId,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.ids import ExchangeOrderId
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.position import Position
    from thalex_trio.sim.engine.orders import SimOrder
    from thalex_trio.sim.engine.requests import Request
    from thalex_trio.sim.events import Events

_INITIAL_SLOTS = 64
_ENTRY_STREAM, _RESPONSE_STREAM = 1, 2


class MatchingEngine:
    """The simulated Thalex matching engine for one account (see the module docstring)."""

    def __init__(
        self, instruments: Iterable[Instrument], params: EngineParams | None = None
    ) -> None:
        self.params = params or EngineParams()
        insts = {i.name: i for i in instruments}
        self._ex = Exchange(
            params=self.params,
            instruments=insts,
            books={
                name: BookState(self.params.book_window_ticks, _INITIAL_SLOTS) for name in insts
            },
            entry_latency=LatencySampler(
                self.params.entry_latency, self.params.seed, _ENTRY_STREAM
            ),
            response_latency=LatencySampler(
                self.params.response_latency, self.params.seed, _RESPONSE_STREAM
            ),
        )
        self._actions: list[tuple[int, int, SessionId, Request | None, RequestId]] = []
        self._next_session = 0
        self._next_funding_ns: int | None = None
        self._queue_model = 0 if self.params.queue_model is QueueModel.CONSERVATIVE else 1

    # -- time --------------------------------------------------------------------------------

    @property
    def now_ns(self) -> int:
        """The engine's (exchange) time: everything up to it has been applied."""
        return self._ex.now_ns

    def feed(self, instrument_name: str, events: Events) -> None:
        """Queue market events of one instrument (sorted by `exch_ts_ns`, after what was fed)."""
        book = self._ex.books[instrument_name]
        book.ensure_placed(events)
        if events.shape[0]:
            book.pending.append((events, 0))

    def advance_to(self, t_ns: int, *, until_report_ns: int | None = None) -> bool:
        """Apply every market event, request and funding settlement up to `t_ns`.

        With `until_report_ns`, stop early, right after what produced it, as soon as a report
        due at or before that time is waiting (see `next_report_ns`), so a caller can act at
        its delivery; calling again continues where it stopped. Returns True when `t_ns` was
        reached.
        """
        ex = self._ex
        if t_ns < ex.now_ns:
            return True
        if self._next_funding_ns is None:
            # Settlements start on the interval grid after the first time the engine sees.
            first = [b.next_event_ts_ns() for b in ex.books.values()]
            start = min([t for t in first if t is not None] + [t_ns])
            ex.now_ns = max(ex.now_ns, start)
            interval = self.params.funding_interval_ns
            self._next_funding_ns = (start // interval + 1) * interval
        box = ex.outbox
        until = until_report_ns
        model, power_n = self._queue_model, self.params.power_n
        while True:
            if until is not None and box and box[0][0] <= until:
                return False
            bound = min(t_ns, self._next_funding_ns)
            if self._actions:
                bound = min(bound, self._actions[0][0])
            for name, book in ex.books.items():
                while book.run(bound, model, power_n):
                    self._on_kernel_fills(name, book)
                    if until is not None and box and box[0][0] <= until:
                        return False
            ex.now_ns = max(ex.now_ns, bound)
            if self._actions and self._actions[0][0] <= bound:
                self._apply_next_action()
            elif self._next_funding_ns <= bound:
                self._settle_funding()
                self._next_funding_ns += self.params.funding_interval_ns
            elif bound >= t_ns:
                return True

    def next_report_ns(self) -> int | None:
        """Delivery time of the earliest report not drained yet, if any."""
        box = self._ex.outbox
        return box[0][0] if box else None

    def next_wakeup_ns(self) -> int | None:
        """The earliest time something is scheduled: a request, a report or a market event."""
        times = [self._actions[0][0]] if self._actions else []
        if self._ex.outbox:
            times.append(self._ex.outbox[0][0])
        times.extend(t for b in self._ex.books.values() if (t := b.next_event_ts_ns()) is not None)
        return min(times) if times else None

    # -- sessions and requests ---------------------------------------------------------------

    def open_session(self) -> SessionId:
        """A new session; its orders are persistent until `set_cancel_on_disconnect`."""
        self._next_session += 1
        sid = SessionId(self._next_session)
        self._ex.sessions[sid] = Session()
        return sid

    def set_cancel_on_disconnect(self, session_id: SessionId) -> None:
        """Orders the session inserts from now on are non-persistent (API.md §3.4)."""
        self._ex.sessions[session_id].persistent = False

    def is_persistent(self, session_id: SessionId) -> bool:
        """False once the session called `set_cancel_on_disconnect`."""
        return self._ex.sessions[session_id].persistent

    def close_session(self, session_id: SessionId, now_ns: int) -> None:
        """The session disconnected at `now_ns`: once its in-flight requests have arrived, its
        non-persistent orders are deleted with `session_end` and its MM groups reset."""
        self._schedule(session_id, None, now_ns, latency_ns=0)

    def submit(self, session_id: SessionId, request: Request, now_ns: int) -> RequestId:
        """Send a request at `now_ns`; it takes effect after the entry latency, after the
        session's earlier requests. Its `RequestResult` comes through `drain_reports`."""
        return self._schedule(session_id, request, now_ns, self._ex.entry_latency.sample_ns())

    def _schedule(
        self, session_id: SessionId, request: Request | None, now_ns: int, latency_ns: int
    ) -> RequestId:
        ex = self._ex
        session = ex.sessions[session_id]
        effect = max(now_ns + latency_ns, session.last_effect_ns, ex.now_ns)
        session.last_effect_ns = effect
        request_id = RequestId(ex.next_seq())
        heapq.heappush(self._actions, (effect, request_id, session_id, request, request_id))
        return request_id

    def _apply_next_action(self) -> None:
        ex = self._ex
        _, _, session_id, request, request_id = heapq.heappop(self._actions)
        session = ex.sessions[session_id]
        if request is None:
            handlers.end_session(ex, session_id)
            session.open = False
            return
        deliver = ex.deliver_at(session_id)
        slot_seq = ex.next_seq()  # the result is delivered before the notices it causes
        outcome = handlers.handle(ex, session_id, request)
        if isinstance(outcome, Rejection):
            result = RequestResult(request_id, session_id, deliver, ex.now_ns, None, outcome)
        else:
            result = RequestResult(request_id, session_id, deliver, ex.now_ns, outcome)
        heapq.heappush(ex.outbox, (deliver, slot_seq, result))

    def drain_reports(self) -> list[Report]:
        """Reports delivered by now, in delivery order."""
        out: list[Report] = []
        box = self._ex.outbox
        while box and box[0][0] <= self._ex.now_ns:
            out.append(heapq.heappop(box)[2])
        return out

    # -- fills and funding -------------------------------------------------------------------

    def _on_kernel_fills(self, name: str, book: BookState) -> None:
        ex = self._ex
        n = int(book.st[k.ST_N_FILLS])
        book.st[k.ST_N_FILLS] = 0
        per_order: dict[int, tuple[SimOrder, list[Fill]]] = {}
        for i in range(n):
            order = ex.by_slot[(name, int(book.f_slot[i]))]
            ex.now_ns = max(ex.now_ns, int(book.f_ts[i]))
            lots = int(book.f_lots[i])
            fill = ex.fill(order, int(book.f_price[i]), lots, Liquidity.MAKER)
            per_order.setdefault(order.seq, (order, []))[1].append(fill)
        for order, fills in per_order.values():
            ex.notify(ex.report(order, ChangeReason.FILL, tuple(fills)))
        ex.position_changed(name)
        for order, fills in per_order.values():
            if order.mass_quote:
                ex.mm_executed(order, sum(f.amount_lots for f in fills))

    def _settle_funding(self) -> None:
        ex = self._ex
        assert self._next_funding_ns is not None
        ex.now_ns = max(ex.now_ns, self._next_funding_ns)
        share = self.params.funding_interval_ns / self.params.funding_rate_period_ns
        for name, inst in ex.instruments.items():
            pos = ex.positions.get(name)
            book = ex.books[name]
            mark, rate = float(book.fst[k.FST_MARK]), float(book.fst[k.FST_FUNDING_RATE])
            if inst.kind is not InstrumentKind.PERPETUAL or pos is None or pos.size_lots == 0:
                continue
            if math.isnan(mark) or math.isnan(rate):  # no mark or rate seen yet
                continue
            paid = rate * share * mark * inst.lots_to_amount(pos.size_lots)
            ex.positions[name] = pos.apply_funding(-paid)
            ex.position_changed(name, funding_paid=paid)

    # -- queries -----------------------------------------------------------------------------

    def instrument(self, name: str) -> Instrument:
        """The instrument called `name` (KeyError if unknown)."""
        return self._ex.instruments[name]

    def product(self, name: str) -> str:
        """The MM-protection product group of an instrument."""
        return product_of(self._ex.instruments[name])

    def position(self, instrument_name: str) -> Position:
        """The account's position in one instrument."""
        return self._ex.position(instrument_name)

    def top_of_book(self, instrument_name: str) -> TopOfBook:
        """The market's best bid and ask: the book the feed drives, without the sessions'
        resting orders (`public_top_of_book` has them)."""
        book = self._ex.books[instrument_name]
        bb, ba = book.best_bid_ticks(), book.best_ask_ticks()
        return TopOfBook(
            instrument_name,
            None if bb is None else BookLevel(bb, book.level_lots(Side.BUY, bb)),
            None if ba is None else BookLevel(ba, book.level_lots(Side.SELL, ba)),
            self._ex.now_ns,
        )

    def depth(self, instrument_name: str, n_levels: int) -> tuple[list[BookLevel], list[BookLevel]]:
        """Up to `n_levels` of the market's levels per side, best first: (bids, asks); the
        sessions' resting orders are not in them (`public_depth` has them)."""
        book = self._ex.books[instrument_name]
        return (
            [BookLevel(p, q) for p, q in book.depth(Side.BUY, n_levels)],
            [BookLevel(p, q) for p, q in book.depth(Side.SELL, n_levels)],
        )

    def public_depth(
        self, instrument_name: str, n_levels: int
    ) -> tuple[list[BookLevel], list[BookLevel]]:
        """The book as the exchange publishes it: the market's levels with every session's
        resting orders added at their prices, up to `n_levels` per side, best first.

        A real exchange's public book holds everyone's orders, ours included; a client that
        quotes around the book's mid must take its own orders out, and this is what tests it.
        """
        bids, asks = self.depth(instrument_name, n_levels)
        resting_bids: dict[int, int] = {}
        resting_asks: dict[int, int] = {}
        for order in self._ex.orders.values():
            if order.slot < 0 or order.instrument_name != instrument_name:
                continue
            resting = resting_bids if order.side is Side.BUY else resting_asks
            resting[order.price_ticks] = resting.get(order.price_ticks, 0) + order.open_lots
        return (
            _with_resting(bids, resting_bids, n_levels, best_is_high=True),
            _with_resting(asks, resting_asks, n_levels, best_is_high=False),
        )

    def public_top_of_book(self, instrument_name: str) -> TopOfBook:
        """The best bid and ask of `public_depth`: what the ticker and lwt channels show."""
        bids, asks = self.public_depth(instrument_name, 1)
        return TopOfBook(
            instrument_name, bids[0] if bids else None, asks[0] if asks else None, self._ex.now_ns
        )

    def collar_ticks(self, instrument_name: str) -> tuple[int, int] | None:
        """(low, high) price collar in ticks (None: no collar); see `Exchange.collar_ticks`."""
        return self._ex.collar_ticks(instrument_name)

    def reference(self, instrument_name: str) -> tuple[float, float, float]:
        """Latest (mark, index, funding rate) from the feed; NaN until first seen."""
        fst = self._ex.books[instrument_name].fst
        return float(fst[k.FST_MARK]), float(fst[k.FST_INDEX]), float(fst[k.FST_FUNDING_RATE])

    def open_orders(self, session_id: SessionId | None = None) -> list[OrderReport]:
        """Active orders (of one session, or all) as `existing` reports with all their fills."""
        ex = self._ex
        return [
            o.report(
                ChangeReason.EXISTING, tuple(o.fills), ex.now_ns, self.params.cancelled_remaining
            )
            for o in sorted(ex.orders.values(), key=lambda o: o.seq)
            if session_id is None or o.session_id == session_id
        ]

    def queue_ahead_lots(self, order_id: ExchangeOrderId) -> float | None:
        """Lots ahead of a resting order in its level's queue (None unless resting)."""
        order = self._ex.orders.get(order_id)
        if order is None or order.slot < 0:
            return None
        return float(self._ex.books[order.instrument_name].o_front[order.slot])

    def stats(self, instrument_name: str) -> dict[str, int]:
        """Kernel counters: events applied, crossed messages, levels outside the window."""
        st = self._ex.books[instrument_name].st
        return {
            "events": int(st[k.ST_EVENTS]),
            "crossed": int(st[k.ST_CROSSED]),
            "out_of_window": int(st[k.ST_OUT_OF_WINDOW]),
        }


def _with_resting(
    levels: list[BookLevel], resting: dict[int, int], n_levels: int, *, best_is_high: bool
) -> list[BookLevel]:
    """The market's best `n_levels` with resting order lots added, best first, cut to
    `n_levels` (a market level beyond the market's own best n can never make the cut)."""
    if not resting:
        return levels
    merged = dict(resting)
    for level in levels:
        merged[level.price_ticks] = merged.get(level.price_ticks, 0) + level.amount_lots
    prices = sorted((p for p, lots in merged.items() if lots > 0), reverse=best_is_high)
    return [BookLevel(p, merged[p]) for p in prices[:n_levels]]
