"""Our orders and position on one instrument, kept from what we send and what the venue reports.

The tracker is the single owner of our view of the venue: the executor tells it what it sent
(`on_sent`), the venue's answers go in as RPC results (`on_result`, `on_rejected`) and order
notifications (`on_notification`), in whatever order they arrive. Each order merges its two
streams through the `Order` state machine; the position is the sum of the fills, each counted
once by trade id, however many reports repeat it.

Pure and synchronous: the live runtime, the shadow venue and the backtest all drive it the same
way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from attrs import evolve

from thalex_trio.domain.actions import Amend, Cancel, Insert
from thalex_trio.domain.enums import Side
from thalex_trio.domain.ids import ClientOrderId, TradeId
from thalex_trio.domain.order import IllegalTransition, Order, OrderState, RequestKind
from thalex_trio.domain.position import Position

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.domain.order import OrderUpdate


_BUY = Side.BUY
_OPEN = OrderState.OPEN
_TERMINAL = OrderState.TERMINAL

EARLY_FEES_KEPT = 1_000
"""Most fees kept while their fills have not arrived (the oldest is dropped first)."""

FIRST_CLIENT_ORDER_ID = ClientOrderId(1)
"""Where client order ids start unless the caller continues a previous run's sequence."""


class OrderTracker:
    """Our orders and position on one instrument, fed by the actions we send and the venue's
    reports."""

    __slots__ = (
        "_early_fees",
        "_fees",
        "_first_id",
        "_next_id",
        "_orders",
        "_position",
        "_seen_trades",
        "instrument",
    )

    def __init__(
        self, instrument: Instrument, first_client_order_id: ClientOrderId = FIRST_CLIENT_ORDER_ID
    ) -> None:
        self.instrument = instrument
        self._first_id = first_client_order_id
        self._next_id = first_client_order_id
        self._orders: dict[ClientOrderId, Order] = {}
        self._position = Position(instrument.name)
        self._seen_trades: set[TradeId] = set()
        self._fees: dict[TradeId, float] = {}  # the fee counted for each fill in the position
        self._early_fees: dict[TradeId, float] = {}  # fees learnt before their fill

    # -- views -------------------------------------------------------------------------------

    @property
    def next_client_order_id(self) -> ClientOrderId:
        """The client order id the next insert should use (above every id we sent or adopted)."""
        return self._next_id

    def issued(self, client_order_id: ClientOrderId) -> bool:
        """Whether `client_order_id` is in the range this tracker (and the trackers it was
        restarted from) handed out: a fill learnt from the trade history with such an id is
        one of ours, not another client's on the same account."""
        return self._first_id <= client_order_id < self._next_id

    @property
    def position(self) -> Position:
        """Our position from the fills we hold, each counted once."""
        return self._position

    def orders(self) -> tuple[Order, ...]:
        """Every non-terminal order, plus terminal ones not yet resolved: those whose reported
        fills we lack, and those found gone (code 1) whose final report has not arrived."""
        # `Order.is_terminal` and `unaccounted_fill_lots` inlined: called on every decision.
        return tuple(
            o
            for o in self._orders.values()
            if o.state is not _TERMINAL
            or o.reported_filled_lots > o.filled_lots
            or o.awaiting_final_report
        )

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        """The order with `client_order_id`, if we still track it."""
        return self._orders.get(client_order_id)

    def exposure_lots(self) -> tuple[int, int, int, int]:
        """(resting buy, resting sell, in-flight buy, in-flight sell) lots at the worst case.

        An order counts as in flight while one of our requests on it is unanswered; its size is
        `Order.worst_case_remaining_lots` (an amend to a larger size may still succeed).
        """
        # The `Order` properties inlined (this runs on every decision): for a live order,
        # `worst_case_remaining_lots` is max(amount - filled, 0), raised to the pending amend's
        # remaining size when that is larger, with filled the larger of ours and the reported.
        resting_buy = resting_sell = flight_buy = flight_sell = 0
        for order in self._orders.values():
            state = order.state
            if state is _TERMINAL:
                continue
            filled = order.filled_lots
            if order.reported_filled_lots > filled:
                filled = order.reported_filled_lots
            lots = order.amount_lots - filled
            if lots < 0:
                lots = 0
            pending = order.pending_amount_lots
            if pending is not None and pending - filled > lots:
                lots = pending - filled
            if state is not _OPEN:  # PENDING_INSERT, PENDING_AMEND or PENDING_CANCEL
                if order.side is _BUY:
                    flight_buy += lots
                else:
                    flight_sell += lots
            elif order.side is _BUY:
                resting_buy += lots
            else:
                resting_sell += lots
        return resting_buy, resting_sell, flight_buy, flight_sell

    def book_lots(self) -> tuple[dict[int, int], dict[int, int]]:
        """Our lots that may rest in the venue's public book, per price: (bids, asks).

        Every live order counts at its confirmed price with what is left of it, and an order
        with an amend in flight counts at the amend's price as well: the book update that
        shows a request applied can overtake the request's answer (an insert not yet
        acknowledged counts for the same reason). Seeing our own order as the market's best
        would make us quote around ourselves; counting it where it may not be yet only hides
        others' lots at that price until the answer comes. Terminal orders are out of the book.
        """
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for order in self._orders.values():
            if order.state is _TERMINAL:
                continue
            filled = order.filled_lots
            if order.reported_filled_lots > filled:
                filled = order.reported_filled_lots
            side = bids if order.side is _BUY else asks
            lots = order.amount_lots - filled
            if lots > 0:
                side[order.price_ticks] = side.get(order.price_ticks, 0) + lots
            pending_price = order.pending_price_ticks
            pending_amount = order.pending_amount_lots
            if pending_price is not None and pending_amount is not None:
                lots = pending_amount - filled
                if lots > 0 and pending_price != order.price_ticks:
                    side[pending_price] = side.get(pending_price, 0) + lots
        return bids, asks

    def has_in_flight(self) -> bool:
        """True while any of our requests has no answer yet."""
        return any(o.state.in_flight for o in self._orders.values())

    # -- what we sent ------------------------------------------------------------------------

    def on_sent(self, action: Insert | Amend | Cancel, now_ns: int) -> None:
        """Record that `action` was sent; raises IllegalTransition if no order could take it."""
        match action:
            case Insert():
                if action.client_order_id in self._orders:
                    raise IllegalTransition(f"order {action.client_order_id} inserted twice")
                if action.instrument_name != self.instrument.name:
                    raise IllegalTransition(
                        f"insert for {action.instrument_name} sent to {self.instrument.name}"
                    )
                self._orders[action.client_order_id] = Order.new_insert(
                    action.client_order_id,
                    action.instrument_name,
                    action.side,
                    action.price_ticks,
                    action.amount_lots,
                    now_ns,
                    post_only=action.post_only,
                    reduce_only=action.reduce_only,
                    time_in_force=action.time_in_force,
                )
                self._bump_next_id(action.client_order_id)
            case Amend():
                order = self._require(action.client_order_id)
                self._orders[order.client_order_id] = order.request_amend(
                    action.price_ticks, action.amount_lots, now_ns
                )
            case Cancel():
                order = self._require(action.client_order_id)
                self._orders[order.client_order_id] = order.request_cancel()
            case _:
                assert_never(action)

    # -- what the venue said -----------------------------------------------------------------

    def on_result(self, request: RequestKind, update: OrderUpdate) -> tuple[Fill, ...]:
        """The successful RPC result of our `request`; returns the fills new to us (already in
        the position). A result for an order we no longer track changes nothing."""
        order = self._orders.get(update.client_order_id)
        if order is None:
            return ()
        merged, fills = order.apply_result(request, update)
        self._orders[order.client_order_id] = merged
        return self._take_fills(fills)

    def on_rejected(self, client_order_id: ClientOrderId, request: RequestKind, code: int) -> None:
        """Our `request` on `client_order_id` failed with exchange error `code`."""
        order = self._orders.get(client_order_id)
        if order is not None:
            self._orders[client_order_id] = order.reject(request, code)

    def on_notification(self, update: OrderUpdate, *, side: Side | None = None) -> tuple[Fill, ...]:
        """An order-channel notification; returns the fills new to us (already in the position).

        An unknown client order id is an order from before a restart or not placed by this
        tracker: while it is active it is adopted (so it is reconciled like our own, and a
        cancel can reach it), given its `side` (the wire's direction, or its fills' side);
        otherwise it is ignored.
        """
        order = self._orders.get(update.client_order_id)
        if order is None:
            if side is None and update.fills:
                side = update.fills[0].side
            if update.status.is_active and side is not None:
                self.adopt(update, side, update.fills[-1].time_ns if update.fills else 0)
            return ()
        merged, fills = order.apply(update)
        self._orders[order.client_order_id] = merged
        return self._take_fills(fills)

    def adopt(self, update: OrderUpdate, instrument_side: Side, now_ns: int) -> None:
        """Take over an open order found at (re)start (an `existing` snapshot entry).

        Its past fills predate this view: they are marked seen, not added to the position, whose
        start comes from the venue's portfolio (`set_baseline`). An order we already track is
        merged as a notification instead.
        """
        known = self._orders.get(update.client_order_id)
        if known is not None:
            self.on_notification(update)
            return
        if not update.status.is_active:
            return
        order = Order(
            client_order_id=update.client_order_id,
            instrument_name=self.instrument.name,
            side=instrument_side,
            price_ticks=update.price_ticks if update.price_ticks is not None else 0,
            amount_lots=update.amount_lots,
            state=OrderState.PENDING_INSERT,
            placed_ns=now_ns,
        )
        merged, fills = order.apply(update)
        self._seen_trades.update(f.trade_id for f in fills)
        self._orders[update.client_order_id] = merged
        self._bump_next_id(update.client_order_id)

    def on_fill(self, fill: Fill) -> bool:
        """A fill learnt outside the order stream (trade history after a reconnect); True if it
        was new and went into the position."""
        return bool(self._take_fills((fill,)))

    def set_baseline(self, position: Position) -> None:
        """Start from the venue's position (first start only: before any fill was counted)."""
        if self._position.fill_count or self._seen_trades:
            raise IllegalTransition("the position baseline is set before any fill")
        if position.instrument_name != self.instrument.name:
            raise IllegalTransition(
                f"baseline for {position.instrument_name} given to {self.instrument.name}"
            )
        self._position = position

    def restarted(self) -> OrderTracker:
        """A tracker for a new session: the same position, fills seen and id sequence, and no
        orders (the old session's orders died with it under cancel-on-disconnect; any left
        open are cancelled by the caller)."""
        fresh = OrderTracker(self.instrument, self._next_id)
        fresh._first_id = self._first_id
        fresh._position = self._position
        fresh._seen_trades = set(self._seen_trades)
        return fresh

    def prune(self) -> None:
        """Forget terminal orders that are resolved (see `orders`)."""
        done = [
            cid
            for cid, order in self._orders.items()
            if order.is_terminal
            and order.unaccounted_fill_lots <= 0
            and not order.awaiting_final_report
        ]
        for cid in done:
            del self._orders[cid]

    # -- internals ---------------------------------------------------------------------------

    def _require(self, client_order_id: ClientOrderId) -> Order:
        order = self._orders.get(client_order_id)
        if order is None:
            raise IllegalTransition(f"order {client_order_id} is not tracked")
        return order

    def _bump_next_id(self, client_order_id: ClientOrderId) -> None:
        if client_order_id >= self._next_id:
            self._next_id = ClientOrderId(client_order_id + 1)

    def on_fee(self, trade_id: TradeId, fee: float) -> float:
        """The fee of one of our trades, as the account's trade history states it (order
        notifications carry none); returns the change to the position's fees.

        A fill counted with another fee is corrected by the difference, so a fee is never
        counted twice; a fee that comes before its fill waits for it (at most
        `EARLY_FEES_KEPT`, since the history also lists other sessions' trades).
        """
        counted = self._fees.get(trade_id)
        if counted is None:
            # Not in the position: a fill still to come (its fee waits for it), or the past
            # fill of an adopted order, which predates our view (its fee is ignored with it).
            if trade_id not in self._seen_trades:
                self._early_fees[trade_id] = fee
                if len(self._early_fees) > EARLY_FEES_KEPT:
                    del self._early_fees[next(iter(self._early_fees))]
            return 0.0
        change = fee - counted
        if change:
            self._fees[trade_id] = fee
            self._position = self._position.apply_fee(change)
        return change

    def _take_fills(self, fills: tuple[Fill, ...]) -> tuple[Fill, ...]:
        """The fills not counted yet, now counted in the position (with a fee that came first,
        when the fill carries none)."""
        new: list[Fill] = []
        for fill in fills:
            if fill.trade_id in self._seen_trades:
                continue
            self._seen_trades.add(fill.trade_id)
            early = self._early_fees.pop(fill.trade_id, None)
            if early is not None and not fill.fee:
                fill = evolve(fill, fee=early)
            self._fees[fill.trade_id] = fill.fee
            self._position = self._position.apply_fill(fill)
            new.append(fill)
        return tuple(new)
