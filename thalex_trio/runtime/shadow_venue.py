"""Shadow mode's venue: live market data, orders filled by the in-process matching engine.

`ShadowExchange` owns one `MatchingEngine` for the whole run (positions and fills survive a
reconnect, as they do on the exchange) and is the venue factory `run_session` calls once per
session; each call closes the previous engine session (its orders go, as with cancel-on-
disconnect) and returns a `ShadowVenue` on a new one.

Time. Engine time is exchange time: every book message the feed sees is fed to the engine and
applied up to its own timestamp. Between messages, engine time runs on with Trio's clock from
the latest message (`now_ns`), so an order sent 30 ms after a book message is stamped 30 ms
after it, and a timer advances the engine when a pending request or report falls due (the
configured entry and response latencies) instead of waiting for the next market message.
A message stamped before what the engine already applied is applied now (clamped).

Reports. Request results wake the caller of `execute`; order notices of our session and
position notices queue up for `run`, which forwards them as `OrderNote`s and `PositionNote`s
like `LiveVenue` forwards `session.orders` and `account.portfolio`. Nothing reaches the
exchange: the session is used for market data only.

Rate limits. Every request waits for the exchange's message rate as it would on a live
connection with cancel-on-disconnect (`thalex/ratelimit.py`, the live session's limiter: 50
matching-engine messages a second, cancels in their own lane), so shadow mode never trades
faster than live mode could.
"""

from __future__ import annotations

import collections
import logging
import math
from typing import TYPE_CHECKING

import trio
from attrs import define, field

from thalex_trio.runtime.shadow_events import events_from_book_update
from thalex_trio.runtime.venue import OrderNote, PositionNote, VenueRejected
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.from_actions import request_from_action
from thalex_trio.sim.engine.reports import (
    OrderNotice,
    OrderReport,
    PositionNotice,
    RequestResult,
)
from thalex_trio.sim.engine.requests import (
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    InsertOrder,
    MassQuote,
    SetMMProtection,
)
from thalex_trio.thalex.errors import ThalexError
from thalex_trio.thalex.ratelimit import (
    NON_PERSISTENT_ENGINE_RATE_PER_S,
    Lane,
    RateLimiter,
    lane_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.domain.actions import Amend, Cancel, Insert
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.ids import TradeId
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.market import BookUpdate
    from thalex_trio.domain.order import OrderUpdate
    from thalex_trio.runtime.venue import VenueEvent
    from thalex_trio.sim.engine.params import EngineParams
    from thalex_trio.sim.engine.reports import Report, RequestId, SessionId
    from thalex_trio.sim.engine.requests import Request

_log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000

IDLE_WAKE_S = 1.0
"""The report loop looks at the engine at least this often, even with nothing scheduled."""

_METHODS: dict[type[Request], str] = {
    InsertOrder: "private/insert",
    AmendOrder: "private/amend",
    CancelOrder: "private/cancel",
    CancelAll: "private/cancel_all",
    CancelSession: "private/cancel_session",
    MassQuote: "private/mass_quote",
    SetMMProtection: "private/set_mm_protection",
    CancelMassQuote: "private/cancel_mass_quote",
}
"""The Thalex method of each engine request, for its rate-limit lane."""


def lane_of_request(request: Request) -> Lane:
    """The rate-limit lane `request` counts against on the exchange."""
    return lane_of(_METHODS[type(request)])


class NoMarketData(ThalexError):
    """A request before the first book message: the engine has no time and no book yet."""


@define
class _Pending:
    """One request waiting for its result."""

    done: trio.Event = field(factory=trio.Event)
    result: RequestResult | None = None


class ShadowExchange:
    """The run's matching engine, its clock and its report routing; the venue factory."""

    def __init__(self, params: EngineParams, on_submit: Callable[[], None] | None = None) -> None:
        self.params = params
        self.on_submit = on_submit
        """Called in the caller's task as each request reaches the engine (tick-to-order)."""
        self.engine: MatchingEngine | None = None
        self.instrument: Instrument | None = None
        self.session_id: SessionId | None = None
        self._anchor: tuple[int, float] | None = None  # (engine ns, Trio s) of the latest message
        self._pending: dict[RequestId, _Pending] = {}
        self._notes: collections.deque[VenueEvent] = collections.deque()
        self.notes_ready = trio.Event()
        self.events: trio.MemorySendChannel[VenueEvent] | None = None
        """The current session's order feed channel, while its venue's `run` is up."""
        self._fills: dict[TradeId, Fill] = {}
        self._fed_ns = 0  # time of the latest message fed

    def __call__(self, session: object, instrument: Instrument) -> ShadowVenue:
        """A venue on a new engine session (the session is used for market data only)."""
        del session
        engine = self.engine
        if engine is None:
            engine = self.engine = MatchingEngine([instrument], self.params)
            self.instrument = instrument
        elif self.instrument is None or self.instrument.name != instrument.name:
            raise ThalexError(f"shadow venue: instrument changed to {instrument.name}")
        if self.session_id is not None:
            engine.close_session(self.session_id, self.now_ns())
            if self.market_seen:
                self.pump(self.now_ns())
        self.session_id = engine.open_session()
        engine.set_cancel_on_disconnect(self.session_id)
        self._notes.clear()  # the new session starts from a snapshot, like a new connection
        return ShadowVenue(self, self.session_id, instrument)

    # -- time ----------------------------------------------------------------------------------

    @property
    def market_seen(self) -> bool:
        """True once a book message gave the engine a time and a book."""
        return self._anchor is not None

    def _engine(self) -> MatchingEngine:
        if self.engine is None:
            raise ThalexError("shadow venue: no session yet")
        return self.engine

    def now_ns(self) -> int:
        """Engine time now: the latest message's time plus Trio time since it arrived."""
        engine_ns = self._engine().now_ns
        if self._anchor is None:
            return engine_ns
        anchor_ns, anchor_s = self._anchor
        return max(engine_ns, anchor_ns + round((trio.current_time() - anchor_s) * NS_PER_S))

    def _trio_s(self, engine_ns: int) -> float:
        assert self._anchor is not None
        anchor_ns, anchor_s = self._anchor
        return anchor_s + (engine_ns - anchor_ns) / NS_PER_S

    # -- market ----------------------------------------------------------------------------------

    def observe_market(self, update: BookUpdate) -> None:
        """Feed one book message and apply everything up to its time (fills included)."""
        engine = self._engine()
        assert self.instrument is not None
        if update.instrument_name != self.instrument.name:
            return
        floor_ns = max(engine.now_ns, self._fed_ns)
        events = events_from_book_update(update, floor_ns)
        time_ns = max(update.time_ns, floor_ns)
        if events.shape[0]:
            engine.feed(self.instrument.name, events)
            time_ns = max(time_ns, int(events["exch_ts_ns"][-1]))
        self._fed_ns = time_ns
        self.pump(time_ns)
        self._anchor = (engine.now_ns, trio.current_time())

    # -- reports ---------------------------------------------------------------------------------

    def pump(self, t_ns: int) -> None:
        """Advance the engine to `t_ns` and route the reports delivered by then."""
        engine = self._engine()
        engine.advance_to(t_ns)
        for report in engine.drain_reports():
            self._route(report)

    def _route(self, report: Report) -> None:
        assert self.instrument is not None
        name = self.instrument.name
        match report:
            case RequestResult():
                if isinstance(report.outcome, OrderReport):
                    self._keep_fills(report.outcome)
                pending = self._pending.get(report.request_id)
                if pending is not None:  # else the caller gave up (its scope was cancelled)
                    pending.result = report
                    pending.done.set()
            case OrderNotice(report=order) if order.instrument_name == name:
                self._keep_fills(order)
                if order.session_id == self.session_id:  # a closed session hears nothing
                    self._note(OrderNote(order.update, order.side))
            case PositionNotice(position=position) if position.instrument_name == name:
                self._note(PositionNote(position.size_lots))
            case _:
                pass  # MM protection (unused) and other instruments

    def _note(self, note: VenueEvent) -> None:
        # Straight into the order feed's channel when it has room and nothing is queued ahead:
        # a fill found while the feed applies a book message then reaches the tracker before
        # the quote loop and executor act on that message (on the exchange, the notification
        # would be on the wire long before our next request).
        if self.events is not None and not self._notes:
            try:
                self.events.send_nowait(note)
            except trio.WouldBlock:
                pass
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.events = None
            else:
                return
        self._notes.append(note)
        self.notes_ready.set()

    def _keep_fills(self, order: OrderReport) -> None:
        for fill in order.update.fills:
            self._fills[fill.trade_id] = fill

    def has_notes(self) -> bool:
        """True while notes wait for the current session's `run`."""
        return bool(self._notes)

    def take_notes(self) -> list[VenueEvent]:
        """The notes queued for the current session, oldest first."""
        out = list(self._notes)
        self._notes.clear()
        return out

    async def sleep_until_due(self, wake: trio.Event, *, idle_s: float = math.inf) -> None:
        """Wait for `wake`, or until the engine has something due and apply it."""
        engine = self._engine()
        due_ns = engine.next_wakeup_ns() if self._anchor is not None else None
        deadline_s = trio.current_time() + idle_s
        if due_ns is not None:
            deadline_s = min(deadline_s, self._trio_s(due_ns))
        with trio.move_on_at(deadline_s):
            await wake.wait()
        if wake.is_set() or self._anchor is None:
            return
        # Float Trio time may land a hair before `due_ns`: apply it anyway, never spin.
        self.pump(max(self.now_ns(), due_ns or 0))

    async def call(self, session_id: SessionId, request: Request) -> RequestResult:
        """Submit `request` now and wait (as long as the caller's scope allows) for its result.

        The submit comes before any checkpoint: the caller's view of its orders (checked
        just before) is still the engine's when the request reaches it, as it would be on
        the wire; the engine's own latency model delays it from there.
        """
        if self._anchor is None:
            await trio.lowlevel.checkpoint()
            raise NoMarketData("shadow venue: no market data yet")
        request_id = self._engine().submit(session_id, request, self.now_ns())
        if self.on_submit is not None:
            self.on_submit()
        pending = self._pending[request_id] = _Pending()
        try:
            while True:
                await self.sleep_until_due(pending.done)
                if pending.result is not None:
                    return pending.result
        finally:
            del self._pending[request_id]

    def fills_since(self, time_ns: int) -> list[Fill]:
        """Our fills in the engine at or after `time_ns`, oldest first."""
        return sorted(
            (f for f in self._fills.values() if f.time_ns >= time_ns),
            key=lambda f: (f.time_ns, f.trade_id),
        )


class ShadowVenue:
    """`Venue` over the shadow engine for one session (see the module docstring)."""

    uses_connection = False
    orders_in_market_book = False  # matched in-process: the live book never shows them

    def __init__(
        self, exchange: ShadowExchange, session_id: SessionId, instrument: Instrument
    ) -> None:
        self.exchange = exchange
        self.session_id = session_id
        self.instrument = instrument
        now_s = trio.current_time()
        self.limiter = RateLimiter(now_s)
        """The message rates of a live connection with cancel-on-disconnect."""
        self.limiter.set_engine_rate(NON_PERSISTENT_ENGINE_RATE_PER_S, now_s)
        self._reserved: dict[Lane, int] = {}  # tokens taken ahead by `reserve_nowait`

    def reserve_nowait(self, action: Insert | Amend | Cancel) -> float:
        """Take `action`'s rate-limit token ahead of `execute` (0.0), or the wait before it."""
        lane = lane_of_request(request_from_action(action, self.instrument))
        delay_s = self.limiter.reserve(lane, trio.current_time())
        if delay_s <= 0:
            self._reserved[lane] = self._reserved.get(lane, 0) + 1
        return delay_s

    async def _call(self, request: Request) -> RequestResult:
        """Take the request's rate-limit token (one taken ahead, or wait for one), then submit
        it and wait for its result."""
        lane = lane_of_request(request)
        if self._reserved.get(lane, 0):
            self._reserved[lane] -= 1
        else:
            # No checkpoint unless the lane makes it wait (see `ShadowExchange.call`).
            while True:
                delay_s = self.limiter.reserve(lane, trio.current_time())
                if delay_s <= 0:
                    break
                await trio.sleep(delay_s)
        result = await self.exchange.call(self.session_id, request)
        self.limiter.on_success(lane)
        return result

    async def run(
        self,
        events: trio.MemorySendChannel[VenueEvent],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Forward the engine's order and position notices; keep the engine's time moving."""
        exchange = self.exchange
        task_status.started()
        async with events:
            try:
                while True:
                    exchange.notes_ready = trio.Event()
                    for note in exchange.take_notes():
                        # No checkpoint while there is room: a cancelled forwarder never
                        # drops notes it already took.
                        try:
                            events.send_nowait(note)
                        except trio.WouldBlock:
                            await events.send(note)
                    exchange.events = events
                    await exchange.sleep_until_due(exchange.notes_ready, idle_s=IDLE_WAKE_S)
                    exchange.events = None  # queue behind whatever came meanwhile, in order
            finally:
                exchange.events = None

    def quiet(self) -> bool:
        """True when no engine notice waits to be forwarded."""
        return not self.exchange.has_notes()

    def observe_market(self, update: BookUpdate) -> None:
        """The engine matches on the live book and trades."""
        self.exchange.observe_market(update)

    async def execute(self, action: Insert | Amend | Cancel) -> OrderUpdate:
        """The engine's answer to `action` after the configured latencies, or VenueRejected."""
        request = request_from_action(action, self.instrument)
        result = await self._call(request)
        if result.error is not None:
            raise VenueRejected(int(result.error.code), result.error.message)
        outcome = result.outcome
        if not isinstance(outcome, OrderReport):
            raise ThalexError(f"shadow engine answered {type(request).__name__} with {outcome!r}")
        return outcome.update

    async def open_orders(self) -> list[OrderNote]:
        """The engine's open orders of our instrument (from every session, like the account)."""
        await trio.lowlevel.checkpoint()
        engine = self.exchange.engine
        if engine is None or not self.exchange.market_seen:
            return []  # no order can exist before the first book message
        return [
            OrderNote(r.update, r.side)
            for r in engine.open_orders()
            if r.instrument_name == self.instrument.name
        ]

    async def position_lots(self) -> int:
        """The engine's position in our instrument."""
        await trio.lowlevel.checkpoint()
        engine = self.exchange.engine
        return 0 if engine is None else engine.position(self.instrument.name).size_lots

    async def fills_since(self, time_ns: int) -> list[Fill]:
        """Our engine fills at or after `time_ns`."""
        await trio.lowlevel.checkpoint()
        return self.exchange.fills_since(time_ns)

    async def cancel_leftover(self, note: OrderNote) -> None:
        """Cancel by exchange id (an order of an earlier session)."""
        result = await self._call(CancelOrder(order_id=note.update.exchange_order_id))
        if result.error is not None:
            _log.warning(
                "cancelling leftover %s failed: %s",
                note.update.exchange_order_id,
                result.error.message,
            )

    async def cancel_everything(self) -> None:
        """Cancel the session's orders, then the whole account's if anything is still open."""
        if not self.exchange.market_seen:
            await trio.lowlevel.checkpoint()
            return
        await self._call(CancelSession())
        if await self.open_orders():
            await self._call(CancelAll())
