"""The matching-engine side of each request (API.md §5), applied at its effective time."""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from thalex_trio.domain.enums import (
    ChangeReason,
    Collar,
    DeleteReason,
    OrderType,
    Side,
    TimeInForce,
)
from thalex_trio.domain.instrument import Instrument, to_e8
from thalex_trio.sim.engine import validation
from thalex_trio.sim.engine.exchange import Exchange, MMGroup, product_of
from thalex_trio.sim.engine.reports import (
    REDUCE_ONLY_REJECTED,
    ErrorCode,
    MassQuoteResult,
    MMProtectionNotice,
    MMProtectionReason,
    QuoteError,
    Rejection,
    RequestOutcome,
    SessionId,
)
from thalex_trio.sim.engine.requests import (
    AmendOrder,
    CancelAll,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    InsertOrder,
    MassQuote,
    QuoteLevel,
    Request,
    SetMMProtection,
)

if TYPE_CHECKING:
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId
    from thalex_trio.sim.engine.orders import SimOrder

_UNBOUNDED_TICKS = 2**62
MAX_QUOTE_LEVELS = 10


def handle(ex: Exchange, session_id: SessionId, request: Request) -> RequestOutcome | Rejection:
    """Apply one request now; the outcome is the RPC result, a Rejection its error."""
    match request:
        case InsertOrder():
            return insert(ex, session_id, request)
        case AmendOrder():
            return amend(ex, session_id, request)
        case CancelOrder():
            return cancel(ex, session_id, request)
        case CancelAll():
            return cancel_all(ex)
        case CancelSession():
            if ex.sessions[session_id].persistent:
                return Rejection(ErrorCode.PERSISTENT_SESSION, "session is persistent")
            end_session(ex, session_id)
            return None
        case MassQuote():
            return mass_quote(ex, session_id, request)
        case SetMMProtection():
            return set_mm_protection(ex, session_id, request)
        case CancelMassQuote():
            cancel_mass_quote(ex, request.product)
            return None
        case _:
            assert_never(request)


def place(ex: Exchange, order: SimOrder, *, reject_post_only: bool) -> tuple[Fill, ...]:
    """Post-only adjustment, execution against the book, then rest or cancel the remainder."""
    fills: tuple[Fill, ...] = ()
    if order.post_only:
        best = ex.opposite_best(order)
        sign = order.side.sign
        if best is not None and sign * (order.price_ticks - best) >= 0:
            if reject_post_only:
                ex.delete(order, DeleteReason.IMMEDIATE_CANCEL)
                return fills
            order.price_ticks = best - sign  # one tick inside the opposite best
            if order.price_ticks <= 0:
                ex.delete(order, DeleteReason.IMMEDIATE_CANCEL)
                return fills
    else:
        # A market order's price is its limit: unbounded, or the collar it was clamped to.
        fills = ex.take(order, order.price_ticks)
    if order.active:
        if order.time_in_force is TimeInForce.IOC:
            ex.delete(order, DeleteReason.IMMEDIATE_CANCEL)
        else:
            ex.rest(order)
    return fills


def insert(ex: Exchange, session_id: SessionId, req: InsertOrder) -> RequestOutcome | Rejection:
    """`private/insert`."""
    instrument = ex.instruments.get(req.instrument_name)
    if instrument is None:
        return Rejection(ErrorCode.UNKNOWN_INSTRUMENT, f"unknown instrument {req.instrument_name}")
    market = req.order_type is OrderType.MARKET
    tif = req.time_in_force or (TimeInForce.IOC if market else TimeInForce.GTC)
    if market and tif is TimeInForce.GTC:
        return Rejection(ErrorCode.INVALID_TIME_IN_FORCE, "a market order cannot be GTC")
    if tif is TimeInForce.IOC and req.post_only:
        return Rejection(ErrorCode.INVALID_TIME_IN_FORCE, "an IOC order cannot be post-only")
    if market:
        price = req.side.sign * _UNBOUNDED_TICKS
    else:
        if req.price is None:
            return Rejection(ErrorCode.INVALID_REQUEST, "a limit order needs a price")
        checked = validation.price_ticks(instrument, req.price)
        if isinstance(checked, Rejection):
            return checked
        price = checked
    lots = validation.amount_lots(instrument, req.amount)
    if isinstance(lots, Rejection):
        return lots
    collared = _collared(
        ex,
        instrument.name,
        req.side,
        price,
        req.collar or (Collar.CLAMP if market else Collar.REJECT),
    )
    if isinstance(collared, Rejection):
        return collared
    price = collared
    if req.client_order_id is not None and (session_id, req.client_order_id) in ex.by_client:
        return Rejection(ErrorCode.DUPLICATE_ORDER_ID, f"duplicate id {req.client_order_id}")
    if req.reduce_only:
        size = ex.position(instrument.name).size_lots
        if size == 0 or req.side.sign * size > 0:
            return Rejection(REDUCE_ONLY_REJECTED, "reduce-only order would not reduce")
        lots = min(lots, abs(size))
    order = ex.new_order(
        session_id,
        instrument,
        req.side,
        price,
        lots,
        order_type=req.order_type,
        time_in_force=tif,
        client_order_id=req.client_order_id,
        label=req.label,
        post_only=req.post_only,
        reduce_only=req.reduce_only,
    )
    fills = place(ex, order, reject_post_only=req.reject_post_only)
    return _reported(ex, order, ChangeReason.INSERT, fills)


def _collared(
    ex: Exchange, instrument_name: str, side: Side, price_ticks: int, collar: Collar
) -> int | Rejection:
    """The order's limit price after the instrument's collar (API.md §5.2): as it was, moved
    to the collar (`clamp`), or a rejection (`reject`, code 43). Mass quotes skip this."""
    bounds = ex.collar_ticks(instrument_name)
    if bounds is None or collar is Collar.IGNORE:
        return price_ticks
    low, high = bounds
    bound = high if side is Side.BUY else low
    if side.sign * (price_ticks - bound) <= 0:
        return price_ticks
    if collar is Collar.REJECT:
        return Rejection(ErrorCode.PRICE_COLLAR_BREACH, "price beyond the collar")
    return bound


def _reported(
    ex: Exchange, order: SimOrder, change: ChangeReason, fills: tuple[Fill, ...]
) -> RequestOutcome:
    report = ex.report(order, change, fills)
    ex.notify(report)
    if fills:
        ex.position_changed(order.instrument_name)
    return report


def _lookup(
    ex: Exchange,
    session_id: SessionId,
    order_id: ExchangeOrderId | None,
    client_order_id: ClientOrderId | None,
) -> SimOrder | Rejection:
    if (order_id is None) == (client_order_id is None):
        return Rejection(ErrorCode.INVALID_REQUEST, "give exactly one of order_id, client_order_id")
    if order_id is not None:
        order = ex.orders.get(order_id)
    else:
        assert client_order_id is not None
        order = ex.by_client.get((session_id, client_order_id))
    if order is None or not order.active:
        return Rejection(ErrorCode.ORDER_NOT_FOUND, "order not found")
    return order


def amend(ex: Exchange, session_id: SessionId, req: AmendOrder) -> RequestOutcome | Rejection:
    """`private/amend`: volume-safe; priority kept only for a size reduction at the same price."""
    order = _lookup(ex, session_id, req.order_id, req.client_order_id)
    if isinstance(order, Rejection):
        return order
    instrument = ex.instruments[order.instrument_name]
    price = validation.price_ticks(instrument, req.price)
    if isinstance(price, Rejection):
        return price
    lots = validation.amount_lots(instrument, req.amount)
    if isinstance(lots, Rejection):
        return lots
    collared = _collared(ex, instrument.name, order.side, price, req.collar or Collar.REJECT)
    if isinstance(collared, Rejection):
        return collared
    price = collared
    fills: tuple[Fill, ...] = ()
    if lots <= order.filled_lots:
        ex.delete(order, DeleteReason.CLIENT_CANCEL)
    elif price == order.price_ticks and lots <= order.amount_lots:
        # Same price, smaller (or unchanged) size: the order keeps its place in the queue.
        ex.set_open_lots(order, lots)
    else:
        ex.unrest(order)
        order.price_ticks = price
        order.amount_lots = lots
        fills = place(ex, order, reject_post_only=False)
    return _reported(ex, order, ChangeReason.AMEND, fills)


def cancel(ex: Exchange, session_id: SessionId, req: CancelOrder) -> RequestOutcome | Rejection:
    """`private/cancel`."""
    order = _lookup(ex, session_id, req.order_id, req.client_order_id)
    if isinstance(order, Rejection):
        return order
    ex.delete(order, DeleteReason.CLIENT_CANCEL)
    return _reported(ex, order, ChangeReason.CANCEL, ())


def cancel_all(ex: Exchange) -> int:
    """`private/cancel_all`: every active order of the account; returns the count."""
    orders = sorted(ex.orders.values(), key=lambda o: o.seq)
    for order in orders:
        ex.delete(order, DeleteReason.CLIENT_BULK_CANCEL)
        ex.notify(ex.report(order, ChangeReason.CANCEL))
    return len(orders)


def end_session(ex: Exchange, session_id: SessionId) -> None:
    """Delete the session's non-persistent orders (`session_end`) and reset its MM groups."""
    for order in sorted(ex.orders.values(), key=lambda o: o.seq):
        if order.session_id == session_id and not order.persistent:
            ex.delete(order, DeleteReason.SESSION_END)
            ex.notify(ex.report(order, ChangeReason.CANCEL))
    ex.reset_groups(session_id, None, MMProtectionReason.SESSION_END)


def set_mm_protection(
    ex: Exchange, session_id: SessionId, req: SetMMProtection
) -> RequestOutcome | Rejection:
    """`private/set_mm_protection`: (re)fill the session's group for a product."""
    if not any(product_of(i) == req.product for i in ex.instruments.values()):
        return Rejection(ErrorCode.UNKNOWN_PRODUCT, f"unknown product {req.product}")
    if req.trade_amount < 0 or req.quote_amount < 0:
        return Rejection(ErrorCode.INVALID_REQUEST, "protection amounts must be >= 0")
    ex.mm_groups[(session_id, req.product)] = MMGroup(req.trade_amount, req.quote_amount)
    t = ex.deliver_at(session_id)
    ex.push(
        t,
        MMProtectionNotice(t, session_id, req.product, req.trade_amount, MMProtectionReason.REFILL),
    )
    return None


def cancel_mass_quote(ex: Exchange, product: str | None) -> None:
    """`private/cancel_mass_quote`: mass quotes of all sessions; groups are reset."""
    for order in sorted(ex.orders.values(), key=lambda o: o.seq):
        if order.mass_quote and (product is None or order.product == product):
            ex.delete(order, DeleteReason.CLIENT_BULK_CANCEL)
            ex.notify(ex.report(order, ChangeReason.CANCEL))
    ex.reset_groups(None, product, MMProtectionReason.CLIENT_CANCEL)


def mass_quote(ex: Exchange, session_id: SessionId, req: MassQuote) -> RequestOutcome | Rejection:
    """`private/mass_quote`: each given side atomically replaces that side's quotes."""
    if ex.sessions[session_id].persistent:
        return Rejection(ErrorCode.PERSISTENT_SESSION, "mass quoting needs cancel_on_disconnect")
    n_success = 0
    errors: list[QuoteError] = []
    for quotes in req.quotes:
        instrument = ex.instruments.get(quotes.instrument_name)
        for side, levels in ((Side.BUY, quotes.bids), (Side.SELL, quotes.asks)):
            if levels is None:
                continue
            error = _quote_side(
                ex, session_id, quotes.instrument_name, instrument, side, levels, req
            )
            if error is None:
                n_success += 1
            else:
                errors.append(error)
    return MassQuoteResult(n_success, len(errors), tuple(errors))


def _quote_side(
    ex: Exchange,
    session_id: SessionId,
    name: str,
    instrument: Instrument | None,
    side: Side,
    levels: tuple[QuoteLevel, ...],
    req: MassQuote,
) -> QuoteError | None:
    def error(code: ErrorCode, message: str, price_ticks: int | None = None) -> QuoteError:
        return QuoteError(code, message, name, side, price_ticks)

    if instrument is None:
        return error(ErrorCode.UNKNOWN_INSTRUMENT, f"unknown instrument {name}")
    group = ex.mm_groups.get((session_id, product_of(instrument)))
    if group is None or group.exhausted:
        return error(ErrorCode.PROT_NOT_SET, "market maker protection not set or exhausted")
    if len(levels) > MAX_QUOTE_LEVELS:
        return error(ErrorCode.INVALID_REQUEST, f"more than {MAX_QUOTE_LEVELS} levels")
    desired: dict[int, int] = {}
    seen: set[int] = set()
    for level in levels:
        price = validation.price_ticks(instrument, level.price)
        if isinstance(price, Rejection):
            return error(price.code, price.message)
        lots = validation.amount_lots(instrument, level.amount, allow_zero=True)
        if isinstance(lots, Rejection):
            return error(lots.code, lots.message, price)
        if to_e8(level.amount) > to_e8(group.quote_amount):
            return error(ErrorCode.QUOTE_EXCEEDS_PROT_GROUP_SIZE, "above quote_amount", price)
        if price in seen:
            return error(ErrorCode.INVALID_REQUEST, "levels must be distinct", price)
        seen.add(price)
        if lots > 0:
            desired[price] = lots
    existing = [
        o
        for o in sorted(ex.orders.values(), key=lambda o: o.seq)
        if o.mass_quote
        and o.session_id == session_id
        and o.instrument_name == name
        and o.side is side
    ]
    for order in existing:
        if desired.get(order.price_ticks) == order.amount_lots:
            del desired[order.price_ticks]  # identical level: left alone, priority kept
        else:
            ex.delete(order, DeleteReason.REPLACED)
            ex.notify(ex.report(order, ChangeReason.CANCEL))
    for price, lots in desired.items():
        order = ex.new_order(
            session_id,
            instrument,
            side,
            price,
            lots,
            label=req.label,
            post_only=req.post_only,
            mass_quote=True,
        )
        fills = place(ex, order, reject_post_only=req.reject_post_only)
        _reported(ex, order, ChangeReason.INSERT, fills)
    return None
