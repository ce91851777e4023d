"""The exchange's state and its primitive operations: resting, deleting and filling orders,
emitting reports with response latency, positions, MM-protection groups and reduce-only recaps.
Request handlers (`handlers.py`) and the time loop (`engine.py`) are built from these."""

from __future__ import annotations

import heapq
import math

import numpy as np
from attrs import define, field

from thalex_trio.domain.enums import (
    ChangeReason,
    DeleteReason,
    InstrumentKind,
    Liquidity,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.position import Position
from thalex_trio.sim.engine import kernel as k
from thalex_trio.sim.engine.book import BookState
from thalex_trio.sim.engine.latency import LatencySampler
from thalex_trio.sim.engine.orders import SimOrder
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.engine.reports import (
    MMProtectionNotice,
    MMProtectionReason,
    OrderNotice,
    OrderReport,
    PositionNotice,
    Report,
    SessionId,
)

_ACCOUNT_STREAM = SessionId(-1)  # delivery ordering key for account-level reports
_MAX_LEVELS_TAKEN = 4096


def product_of(instrument: Instrument) -> str:
    """The MM-protection product group: the instrument's own, else "F"/"O" + underlying."""
    if instrument.product:
        return instrument.product
    prefix = "O" if instrument.kind is InstrumentKind.OPTION else "F"
    return prefix + instrument.underlying.replace("_", "")


@define
class MMGroup:
    """One (session, product) protection group, amounts in units of the underlying."""

    trade_amount: float
    quote_amount: float
    traded_amount: float = 0.0
    exhausted: bool = False


@define
class Session:
    """One client session; orders inserted while `persistent` is False are non-persistent."""

    persistent: bool = True
    open: bool = True
    last_effect_ns: int = 0


@define
class Exchange:
    """All mutable exchange state. Time is `now_ns`, set by the engine's time loop."""

    params: EngineParams
    instruments: dict[str, Instrument]
    books: dict[str, BookState]
    entry_latency: LatencySampler
    response_latency: LatencySampler
    now_ns: int = 0
    orders: dict[ExchangeOrderId, SimOrder] = field(factory=dict)
    by_client: dict[tuple[SessionId, ClientOrderId], SimOrder] = field(factory=dict)
    by_slot: dict[tuple[str, int], SimOrder] = field(factory=dict)
    positions: dict[str, Position] = field(factory=dict)
    sessions: dict[SessionId, Session] = field(factory=dict)
    mm_groups: dict[tuple[SessionId, str], MMGroup] = field(factory=dict)
    outbox: list[tuple[int, int, Report]] = field(factory=list)
    last_deliver_ns: dict[SessionId, int] = field(factory=dict)
    seq: int = 0
    trade_seq: int = 0

    # -- ids and reports ---------------------------------------------------------------------

    def next_seq(self) -> int:
        """A fresh sequence number (order numbers, report ordering)."""
        self.seq += 1
        return self.seq

    def new_order_id(self) -> tuple[int, ExchangeOrderId]:
        """A sequence number and the 16-hex-character order id made from it."""
        n = self.next_seq()
        return n, ExchangeOrderId(f"{n:016X}")

    def deliver_at(self, stream: SessionId) -> int:
        """When a report emitted now reaches `stream`: response latency, never reordering."""
        t = max(
            self.now_ns + self.response_latency.sample_ns(), self.last_deliver_ns.get(stream, 0)
        )
        self.last_deliver_ns[stream] = t
        return t

    def push(self, deliver_ns: int, report: Report) -> None:
        """Queue a report for delivery."""
        heapq.heappush(self.outbox, (deliver_ns, self.next_seq(), report))

    def report(
        self, order: SimOrder, change: ChangeReason, fills: tuple[Fill, ...] = ()
    ) -> OrderReport:
        """`order`'s current OrderStatus."""
        return order.report(change, fills, self.now_ns, self.params.cancelled_remaining)

    def notify(self, report: OrderReport) -> None:
        """Send an order update to the order channels of the order's session."""
        t = self.deliver_at(report.session_id)
        self.push(t, OrderNotice(t, report))

    def position(self, instrument_name: str) -> Position:
        """The account's position in an instrument (flat if never traded)."""
        pos = self.positions.get(instrument_name)
        if pos is None:
            pos = Position(instrument_name)
            self.positions[instrument_name] = pos
        return pos

    # -- order primitives --------------------------------------------------------------------

    def new_order(
        self,
        session_id: SessionId,
        instrument: Instrument,
        side: Side,
        price_ticks: int,
        amount_lots: int,
        *,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: ClientOrderId | None = None,
        label: str | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        mass_quote: bool = False,
    ) -> SimOrder:
        """A new order of a session, registered but not yet resting."""
        seq, order_id = self.new_order_id()
        order = SimOrder(
            seq=seq,
            order_id=order_id,
            session_id=session_id,
            instrument_name=instrument.name,
            side=side,
            price_ticks=price_ticks,
            amount_lots=amount_lots,
            order_type=order_type,
            time_in_force=time_in_force,
            persistent=self.sessions[session_id].persistent,
            create_time_ns=self.now_ns,
            client_order_id=client_order_id,
            label=label,
            post_only=post_only,
            reduce_only=reduce_only,
            mass_quote=mass_quote,
            product=product_of(instrument),
        )
        self.orders[order_id] = order
        if client_order_id is not None:
            self.by_client[(session_id, client_order_id)] = order
        return order

    def opposite_best(self, order: SimOrder) -> int | None:
        """Best opposite price an incoming order sees: the displayed book and our own orders."""
        book = self.books[order.instrument_name]
        st = book.fresh_st()
        if order.side is Side.BUY:
            shown = book.best_ask_ticks()
            ours = int(st[k.ST_MIN_ASK])
            best = ours if ours != k.NO_ASK else None
            return shown if best is None else (best if shown is None else min(shown, best))
        shown = book.best_bid_ticks()
        ours = int(st[k.ST_MAX_BID])
        best = ours if ours != k.NO_BID else None
        return shown if best is None else (best if shown is None else max(shown, best))

    def collar_ticks(self, instrument_name: str) -> tuple[int, int] | None:
        """(low, high): the price collar in ticks around the latest mark (the market's mid
        until a mark arrives, as the ticker shows it). A new ask below low or a new bid above
        high is beyond it. None without a configured collar or any price to centre it on."""
        fraction = self.params.collar_fraction
        if fraction is None:
            return None
        book = self.books[instrument_name]
        mark = float(book.fst[k.FST_MARK])
        if math.isnan(mark):
            bid, ask = book.best_bid_ticks(), book.best_ask_ticks()
            if bid is None or ask is None:
                return None
            centre_ticks = (bid + ask) / 2
        else:
            centre_ticks = self.instruments[instrument_name].fractional_ticks(mark)
        low = max(math.ceil(centre_ticks * (1 - fraction)), 1)
        return low, math.floor(centre_ticks * (1 + fraction))

    def rest(self, order: SimOrder) -> None:
        """Put the order in the book behind the displayed size at its level."""
        book = self.books[order.instrument_name]
        front = float(book.level_lots(order.side, order.price_ticks))
        order.slot = book.add_order(order.side, order.price_ticks, order.open_lots, front)
        self.by_slot[(order.instrument_name, order.slot)] = order

    def unrest(self, order: SimOrder) -> None:
        """Take the order out of the book (it keeps its record)."""
        if order.slot >= 0:
            self.books[order.instrument_name].remove_order(order.slot)
            del self.by_slot[(order.instrument_name, order.slot)]
            order.slot = -1

    def delete(self, order: SimOrder, reason: DeleteReason) -> None:
        """Make the order inactive with `reason`."""
        self.unrest(order)
        order.delete_reason = reason
        order.close_time_ns = self.now_ns
        self.orders.pop(order.order_id, None)
        if order.client_order_id is not None:
            key = (order.session_id, order.client_order_id)
            if self.by_client.get(key) is order:
                del self.by_client[key]

    def set_open_lots(self, order: SimOrder, amount_lots: int) -> None:
        """Change the original amount keeping queue priority (a reduction or a recap)."""
        order.amount_lots = amount_lots
        if order.slot >= 0:
            self.books[order.instrument_name].o_rem[order.slot] = order.open_lots

    def fill(self, order: SimOrder, price_ticks: int, lots: int, liquidity: Liquidity) -> Fill:
        """Book one execution of `order`: fee, position, and deletion once complete."""
        instrument = self.instruments[order.instrument_name]
        self.trade_seq += 1
        fees = self.params.fees
        rate = fees.maker_rate if liquidity is Liquidity.MAKER else fees.taker_rate
        fee = rate * instrument.notional(price_ticks, lots)
        result = Fill(
            trade_id=TradeId(f"{self.trade_seq:032X}"),
            instrument_name=order.instrument_name,
            side=order.side,
            price_ticks=price_ticks,
            amount_lots=lots,
            liquidity=liquidity,
            fee=fee,
            time_ns=self.now_ns,
            client_order_id=order.client_order_id,
            exchange_order_id=order.order_id,
        )
        order.filled_lots += lots
        order.fills.append(result)
        self.positions[order.instrument_name] = self.position(order.instrument_name).apply_fill(
            result
        )
        if order.filled_lots >= order.amount_lots:
            self.delete(order, DeleteReason.FILLED)
        return result

    def take(self, order: SimOrder, limit_ticks: int) -> tuple[Fill, ...]:
        """Execute an incoming order against the displayed book up to its limit, as taker."""
        book = self.books[order.instrument_name]
        out_price = np.zeros(_MAX_LEVELS_TAKEN, dtype=np.int64)
        out_lots = np.zeros(_MAX_LEVELS_TAKEN, dtype=np.int64)
        n = k.take_liquidity(
            book.lots,
            book.st,
            order.side.sign,
            limit_ticks,
            order.open_lots,
            out_price,
            out_lots,
        )
        return tuple(
            self.fill(order, int(out_price[i]), int(out_lots[i]), Liquidity.TAKER)
            for i in range(n)
            if out_lots[i] > 0
        )

    # -- after executions --------------------------------------------------------------------

    def position_changed(self, instrument_name: str, funding_paid: float = 0.0) -> None:
        """Report the position and re-cap resting reduce-only orders (API.md §13 item 14)."""
        pos = self.position(instrument_name)
        t = self.deliver_at(_ACCOUNT_STREAM)
        self.push(t, PositionNotice(t, pos, funding_paid))
        size = pos.size_lots
        for order in list(self.orders.values()):
            if not order.reduce_only or order.instrument_name != instrument_name:
                continue
            if size == 0 or order.side.sign * size > 0:
                # Nothing left to reduce: the exchange's reason is undocumented; we use
                # immediate_cancel, the reason it uses for orders that cannot stand.
                self.delete(order, DeleteReason.IMMEDIATE_CANCEL)
                self.notify(self.report(order, ChangeReason.CANCEL))
            elif order.open_lots > abs(size):
                self.set_open_lots(order, order.filled_lots + abs(size))
                self.notify(self.report(order, ChangeReason.AMEND))

    def mm_executed(self, order: SimOrder, lots: int) -> None:
        """Count a passive mass-quote execution against its group; cancel quotes when spent."""
        key = (order.session_id, order.product)
        group = self.mm_groups.get(key)
        if group is None:
            return
        amount = self.instruments[order.instrument_name].lots_to_amount(lots)
        group.traded_amount += amount
        remaining = group.trade_amount - group.traded_amount
        t = self.deliver_at(order.session_id)
        self.push(
            t,
            MMProtectionNotice(
                t, order.session_id, order.product, remaining, MMProtectionReason.EXECUTIONS
            ),
        )
        if remaining <= 1e-12 and not group.exhausted:
            group.exhausted = True
            for other in list(self.orders.values()):
                if (
                    other.mass_quote
                    and other.session_id == order.session_id
                    and other.product == order.product
                ):
                    self.delete(other, DeleteReason.MM_PROTECTION)
                    self.notify(self.report(other, ChangeReason.CANCEL))

    def reset_groups(
        self, session_id: SessionId | None, product: str | None, reason: MMProtectionReason
    ) -> None:
        """Drop protection groups (of one session or all, of one product or all)."""
        for key in list(self.mm_groups):
            if (session_id is None or key[0] == session_id) and (
                product is None or key[1] == product
            ):
                del self.mm_groups[key]
                t = self.deliver_at(key[0])
                self.push(t, MMProtectionNotice(t, key[0], key[1], 0.0, reason))
