"""Hypothesis strategies for reconciler inputs: ladders, live orders in every state, limits."""

from __future__ import annotations

from attrs import evolve, frozen
from hypothesis import strategies as st

from thalex_trio.domain.enums import InstrumentKind, OrderStatus, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.order import Order, OrderState
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams, ReconcileStyle

NAME = "BTC-PERPETUAL"


def instrument(min_order_lots: int = 1) -> Instrument:
    """A perpetual with tick 1 and lot 0.001, and the given minimum order size."""
    return Instrument(
        name=NAME,
        kind=InstrumentKind.PERPETUAL,
        underlying="BTCUSD",
        tick_size=1.0,
        volume_tick_size=0.001,
        min_order_amount=0.001 * min_order_lots,
    )


@frozen
class Case:
    """Everything one reconcile call takes."""

    instrument: Instrument
    ladder: QuoteLadder
    orders: tuple[Order, ...]
    position_lots: int
    params: ReconcileParams
    limits: ReconcileLimits
    best_bid_ticks: int | None
    best_ask_ticks: int | None
    next_id: ClientOrderId
    now_ns: int = 0


@st.composite
def ladders(draw: st.DrawFn, centre: int = 100) -> QuoteLadder:
    """Up to 5 levels a side, strictly ordered, best bid below best ask, sizes 1..12 lots."""
    split = draw(st.integers(centre - 12, centre + 12))
    bid_prices = draw(st.lists(st.integers(split - 25, split - 1), max_size=5, unique=True))
    ask_prices = draw(st.lists(st.integers(split, split + 25), max_size=5, unique=True))
    sizes = st.integers(1, 12)
    bids = tuple(Quote(Side.BUY, p, draw(sizes)) for p in sorted(bid_prices, reverse=True))
    asks = tuple(Quote(Side.SELL, p, draw(sizes)) for p in sorted(ask_prices))
    return QuoteLadder(NAME, bids, asks)


@st.composite
def live_order(
    draw: st.DrawFn, cid: int, side: Side, low: int, high: int, in_flight: bool = True
) -> Order:
    """One order of ours in any state we can hold (prices, pending prices within low..high)."""
    price = draw(st.integers(low, high))
    amount = draw(st.integers(1, 12))
    states = [OrderState.OPEN]
    if in_flight:
        states += [OrderState.PENDING_INSERT, OrderState.PENDING_AMEND, OrderState.PENDING_CANCEL]
    state = draw(st.sampled_from(states))
    order = Order.new_insert(ClientOrderId(cid), NAME, side, price, amount, placed_ns=0)
    if state is OrderState.PENDING_INSERT:
        return order
    filled = draw(st.integers(0, amount - 1))
    unseen = draw(st.integers(0, amount - 1 - filled)) if draw(st.booleans()) else 0
    order = evolve(
        order,
        state=OrderState.OPEN,
        status=OrderStatus.PARTIALLY_FILLED if filled + unseen else OrderStatus.OPEN,
        filled_lots=filled,
        reported_filled_lots=filled + unseen,
    )
    if state is OrderState.OPEN:
        return order
    if state is OrderState.PENDING_AMEND or draw(st.booleans()):
        order = order.request_amend(
            draw(st.integers(low, high)), draw(st.integers(1, 14)), now_ns=0
        )
    if state is OrderState.PENDING_CANCEL:
        order = order.request_cancel()
    return order


@st.composite
def order_sets(draw: st.DrawFn, in_flight: bool = True, max_per_side: int = 6) -> tuple[Order, ...]:
    """Our orders on both sides, never crossing each other (the exchange would have matched
    them): every price a bid may rest at is below every price an ask may rest at."""
    split = draw(st.integers(88, 112))
    n_bids = draw(st.integers(0, max_per_side))
    n_asks = draw(st.integers(0, max_per_side))
    orders = [
        draw(live_order(cid, Side.BUY, split - 25, split - 1, in_flight))
        for cid in range(1, n_bids + 1)
    ]
    orders += [
        draw(live_order(cid, Side.SELL, split, split + 25, in_flight))
        for cid in range(n_bids + 1, n_bids + n_asks + 1)
    ]
    return tuple(orders)


@st.composite
def cases(
    draw: st.DrawFn,
    style: ReconcileStyle = ReconcileStyle.ORDERS,
    in_flight: bool = True,
    limited: bool = True,
) -> Case:
    """Arbitrary reconcile inputs; `limited=False` leaves the exposure limit off."""
    orders = draw(order_sets(in_flight=in_flight))
    best_bid = draw(st.none() | st.integers(70, 130))
    best_ask = draw(st.none() | st.integers(70, 131))
    if best_bid is not None and best_ask is not None and best_ask <= best_bid:
        best_ask = best_bid + 1
    params = ReconcileParams(
        style=style,
        amend_threshold_ticks=draw(st.integers(1, 3)),
        size_tolerance_lots=draw(st.integers(0, 2)),
        post_only=draw(st.booleans()),
    )
    limits = ReconcileLimits(
        max_exposure_lots=draw(st.none() | st.integers(1, 60)) if limited else None,
        max_order_lots=draw(st.none() | st.integers(1, 12)),
    )
    return Case(
        instrument=instrument(draw(st.integers(1, 3))),
        ladder=draw(ladders()),
        orders=orders,
        position_lots=draw(st.integers(-20, 20)),
        params=params,
        limits=limits,
        best_bid_ticks=best_bid,
        best_ask_ticks=best_ask,
        next_id=ClientOrderId(1000),
    )
