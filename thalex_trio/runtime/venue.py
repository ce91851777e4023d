"""The venue seam: where orders go. The quote loop, executor and watchdog see only `Venue`.

`LiveVenue` sends orders to Thalex over the session; `ShadowVenue` (shadow_venue.py) keeps the
Thalex market data but fills orders in the in-process matching engine. Both report order
updates and position changes as `VenueEvent`s on the channel `run` is given, and both answer an
order request with the order's update or raise `VenueRejected` with the exchange's error code.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol, assert_never

import trio
from attrs import frozen

from thalex_trio.domain.actions import Amend, Cancel, Insert
from thalex_trio.domain.enums import Side
from thalex_trio.domain.ids import TradeId
from thalex_trio.domain.order import OrderUpdate, RequestKind
from thalex_trio.thalex.errors import SessionClosed, ThalexError, ThalexRpcError, Throttled
from thalex_trio.thalex.from_domain import amend_request, cancel_request, insert_request
from thalex_trio.thalex.to_domain import fill_from_trade, order_update_from_wire, position_lots
from thalex_trio.thalex.wire_account import ThalexPortfolioPayload
from thalex_trio.thalex.wire_enums import Sort
from thalex_trio.thalex.wire_orders import ThalexOrdersPayload, ThalexTradesPayload
from thalex_trio.thalex.wire_requests import (
    ThalexAmendRequest,
    ThalexCancelAllRequest,
    ThalexCancelRequest,
    ThalexCancelSessionRequest,
    ThalexInsertRequest,
    ThalexOpenOrdersRequest,
    ThalexPortfolioRequest,
    ThalexTradeHistoryRequest,
)

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.market import BookUpdate
    from thalex_trio.thalex.frames import ThalexNotification
    from thalex_trio.thalex.session import ThalexSession
    from thalex_trio.thalex.wire_orders import ThalexOrderStatus
    from thalex_trio.thalex.wire_requests import ThalexCall

_log = logging.getLogger(__name__)

_METHOD_OF: dict[type[Insert | Amend | Cancel], str] = {
    Insert: ThalexInsertRequest.method,
    Amend: ThalexAmendRequest.method,
    Cancel: ThalexCancelRequest.method,
}


def method_of(action: Insert | Amend | Cancel) -> str:
    """The Thalex method that carries `action` (`private/insert`, ...)."""
    return _METHOD_OF[type(action)]


TRADE_HISTORY_LIMIT = 1000
"""Most fills fetched to catch up after a reconnect."""


class VenueRejected(Exception):
    """The venue refused one of our requests with an exchange error code."""

    def __init__(self, code: int, message: str, *, throttled: bool = False) -> None:
        super().__init__(f"code {code}: {message}")
        self.code = code
        self.message = message
        self.throttled = throttled


@frozen
class OrderNote:
    """An order-channel notification of our instrument, with the order's side."""

    update: OrderUpdate
    side: Side


@frozen
class PositionNote:
    """The venue's own statement of our position (`account.portfolio`)."""

    size_lots: int


@frozen
class FeeNote:
    """The fee of one trade in our instrument (`account.trade_history`; order notifications
    carry none). The account's other sessions' trades come too: the tracker keeps ours."""

    trade_id: TradeId
    fee: float


VenueEvent = OrderNote | PositionNote | FeeNote
"""What a venue reports outside RPC results; handle with `match`."""


def request_kind(action: Insert | Amend | Cancel) -> RequestKind:
    """Which RPC result kind answers `action`."""
    match action:
        case Insert():
            return RequestKind.INSERT
        case Amend():
            return RequestKind.AMEND
        case Cancel():
            return RequestKind.CANCEL
        case _:
            assert_never(action)


class Venue(Protocol):
    """Where orders go. Every method waits as long as the caller's scope allows."""

    instrument: Instrument
    uses_connection: bool
    """True when orders travel over the session's connection (its reader must be up)."""
    orders_in_market_book: bool
    """True when our orders rest in the book the market feed shows (the exchange's public
    book holds everyone's), so the feed takes them out of the top it quotes around."""

    async def run(
        self,
        events: trio.MemorySendChannel[VenueEvent],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Report order updates and positions on `events` until cancelled."""

    def quiet(self) -> bool:
        """True when nothing the venue reported is still on its way to `run`'s channel."""

    def reserve_nowait(self, action: Insert | Amend | Cancel) -> float:
        """Take the exchange message-rate token `action` will use: 0.0 when taken, else the
        seconds to wait before asking again. The executor asks before its last look at the
        order, so a wait for the rate never sends an order that turned moot meanwhile."""

    def observe_market(self, update: BookUpdate) -> None:
        """The live book and trades as the feed saw them (the shadow venue matches on them)."""

    async def execute(self, action: Insert | Amend | Cancel) -> OrderUpdate:
        """Send `action`; the order's update, or VenueRejected."""

    async def open_orders(self) -> list[OrderNote]:
        """Our open orders in the instrument (the (re)start snapshot)."""

    async def position_lots(self) -> int:
        """Our position in the instrument, as the venue states it."""

    async def fills_since(self, time_ns: int) -> list[Fill]:
        """Our fills in the instrument at or after `time_ns` (catch-up after a reconnect)."""

    async def cancel_leftover(self, note: OrderNote) -> None:
        """Cancel an open order found at (re)start that this session does not own."""

    async def cancel_everything(self) -> None:
        """Cancel every order of ours (session first, then the whole account)."""


class LiveVenue:
    """Orders to Thalex over a logged-in `ThalexSession` with cancel-on-disconnect."""

    uses_connection = True
    orders_in_market_book = True

    def __init__(self, session: ThalexSession, instrument: Instrument) -> None:
        self.session = session
        self.instrument = instrument

    async def run(
        self,
        events: trio.MemorySendChannel[VenueEvent],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Forward `session.orders`, `account.portfolio` and `account.trade_history` (fees) of
        our instrument.

        A notification taken off the session's stream is forwarded whole without a checkpoint
        (unless the order feed is 1024 events behind), so a cancellation never loses it
        halfway: what was taken is on the order feed's channel.
        """
        task_status.started()
        async with events:
            # The session owns `account_events`; it stays open for the cleanup.
            async for note in self.session.account_events:
                for event in self._events_of(note):
                    try:
                        events.send_nowait(event)
                    except trio.WouldBlock:
                        await events.send(event)

    def _events_of(self, note: ThalexNotification) -> list[VenueEvent]:
        name = self.instrument.name
        payload = note.payload
        out: list[VenueEvent] = []
        if isinstance(payload, ThalexOrdersPayload):
            for wire in payload.items:
                if wire.instrument_name == name:
                    update = order_update_from_wire(wire, self.instrument)
                    if update is not None:
                        out.append(OrderNote(update, wire.direction))
        elif isinstance(payload, ThalexPortfolioPayload):
            for entry in payload.items:
                if entry.instrument_name == name:
                    out.append(PositionNote(position_lots(entry, self.instrument)))
        elif isinstance(payload, ThalexTradesPayload):
            out.extend(
                FeeNote(TradeId(trade.trade_id), trade.fee)
                for trade in payload.items
                if trade.instrument_name == name
                and trade.trade_id is not None
                and trade.fee is not None
            )
        return out

    def reserve_nowait(self, action: Insert | Amend | Cancel) -> float:
        """The pause left after a throttle reply on the action's lane, else 0.0: the session's
        limiter paces each request as it sends it, but an action that would wait out a pause
        inside the session must be looked at again afterwards (it may no longer apply)."""
        return self.session.lane_paused_s(method_of(action))

    def quiet(self) -> bool:
        """True when every notification received so far has been forwarded (the cleanup waits
        for this before it ends, so a late fill reaches the tracker)."""
        stats = self.session.account_events.statistics()
        return stats.current_buffer_used == 0 and stats.tasks_waiting_receive > 0

    def observe_market(self, update: BookUpdate) -> None:
        """Nothing to do: the exchange has its own book."""

    async def execute(self, action: Insert | Amend | Cancel) -> OrderUpdate:
        """`private/insert|amend|cancel`; a result without our client id is a protocol bug."""
        call: ThalexCall[ThalexOrderStatus]
        match action:
            case Insert():
                call = insert_request(action, self.instrument)
            case Amend():
                call = amend_request(action, self.instrument)
            case Cancel():
                call = cancel_request(action)
            case _:
                assert_never(action)
        try:
            wire = await self.session.request(call)
        except ThalexRpcError as exc:
            raise VenueRejected(
                exc.code, exc.message, throttled=isinstance(exc, Throttled)
            ) from None
        update = order_update_from_wire(wire, self.instrument)
        if update is None:
            raise ThalexError(f"{call.method} result without a client order id")
        return update

    async def open_orders(self) -> list[OrderNote]:
        """`private/open_orders` of our instrument."""
        notes = []
        for wire in await self.session.request(ThalexOpenOrdersRequest()):
            if wire.instrument_name != self.instrument.name:
                continue
            update = order_update_from_wire(wire, self.instrument)
            if update is not None:
                notes.append(OrderNote(update, wire.direction))
        return notes

    async def position_lots(self) -> int:
        """`private/portfolio` line of our instrument (0 when there is none)."""
        for entry in await self.session.request(ThalexPortfolioRequest()):
            if entry.instrument_name == self.instrument.name:
                return position_lots(entry, self.instrument)
        return 0

    async def fills_since(self, time_ns: int) -> list[Fill]:
        """`private/trade_history` of our instrument from `time_ns`, oldest first."""
        history = await self.session.request(
            ThalexTradeHistoryRequest(
                limit=TRADE_HISTORY_LIMIT,
                time_low=time_ns // 1_000_000_000,
                sort=Sort.ASCENDING,
                instrument_names=self.instrument.name,
            )
        )
        return [
            fill_from_trade(t, self.instrument)
            for t in history.trades
            if t.instrument_name == self.instrument.name and t.trade_id is not None
        ]

    async def cancel_leftover(self, note: OrderNote) -> None:
        """`private/cancel` by exchange id (another session's client ids are not ours)."""
        try:
            await self.session.request(ThalexCancelRequest(order_id=note.update.exchange_order_id))
        except ThalexRpcError as exc:
            _log.warning("cancelling leftover %s failed: %s", note.update.exchange_order_id, exc)
            await trio.lowlevel.checkpoint()

    async def cancel_everything(self) -> None:
        """`private/cancel_session`, then `private/cancel_all` if anything is still open."""
        try:
            await self.session.request(ThalexCancelSessionRequest())
        except ThalexRpcError as exc:
            _log.warning("cancel_session failed (%s); falling back to cancel_all", exc)
        if await self.open_orders():
            await self.session.request(ThalexCancelAllRequest())


CLEANUP_ERRORS: tuple[type[Exception], ...] = (
    ThalexError,
    SessionClosed,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    OSError,
)
"""What a cleanup on a dying connection may raise; logged, never masking the original error."""
