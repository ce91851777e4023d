"""Properties of the engine over random market paths around one resting order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.sim.book_fixture import PERP, T0, Harness, events, order_report
from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.sim.engine.params import (
    EngineParams,
    Fees,
    Latency,
    LatencyKind,
    QueueModel,
)
from thalex_trio.sim.engine.reports import OrderNotice, RequestResult
from thalex_trio.sim.engine.requests import InsertOrder
from thalex_trio.sim.events import DEPTH_EVENT, TRADE_EVENT

OUR_PRICE = 100  # the best bid of the fixture book, 10 lots displayed

# (kind, side, price offset from our price, lots): depth changes on our level and around it,
# trades by sellers at, above and below our price.
market_event = st.one_of(
    st.tuples(st.just(DEPTH_EVENT), st.just(1), st.integers(-2, 0), st.integers(0, 30)),
    st.tuples(st.just(TRADE_EVENT), st.just(-1), st.integers(-1, 1), st.integers(1, 8)),
)


def _run(path: list[tuple[int, int, int, int]], lots: int, params: EngineParams) -> Harness:
    h = Harness(params)
    order_report(
        h.call(InsertOrder(PERP.name, Side.BUY, lots / 1000, float(OUR_PRICE), ClientOrderId(1)))
    )
    rows = [
        (kind, side, T0 + 10 * (i + 1), OUR_PRICE + offset, size)
        for i, (kind, side, offset, size) in enumerate(path)
    ]
    if rows:
        h.market(events(rows))
    return h


def _maker_lots(h: Harness) -> int:
    return sum(
        f.amount_lots for n in h.notices() for f in n.update.fills if f.liquidity is Liquidity.MAKER
    )


@given(trades=st.lists(st.integers(1, 8), max_size=12), lots=st.integers(1, 20))
def test_no_fill_before_the_queue_ahead_is_consumed(trades: list[int], lots: int) -> None:
    # Only trades at our price: the 10 lots displayed ahead of us trade first.
    path = [(TRADE_EVENT, -1, 0, q) for q in trades]
    h = _run(path, lots, EngineParams(book_window_ticks=4096))
    assert _maker_lots(h) == min(max(sum(trades) - 10, 0), lots)


@given(
    path=st.lists(market_event, max_size=25),
    lots=st.integers(1, 20),
    model=st.sampled_from(QueueModel),
)
def test_fills_reports_fees_and_position_reconcile(
    path: list[tuple[int, int, int, int]], lots: int, model: QueueModel
) -> None:
    fees = Fees(maker_rate=-0.0001, taker_rate=0.0003)
    h = _run(path, lots, EngineParams(queue_model=model, fees=fees, book_window_ticks=4096))
    fills = [f for n in h.notices() for f in n.update.fills]
    for n in h.notices():
        upd = n.update
        assert upd.amount_lots == lots
        if upd.status.is_active:
            assert upd.filled_lots + n.remaining_lots == upd.amount_lots
        assert upd.filled_lots <= upd.amount_lots
    filled = sum(f.amount_lots for f in fills)
    assert filled <= lots
    assert all(f.price_ticks == OUR_PRICE for f in fills)  # a resting bid fills at its price
    pos = h.engine.position(PERP.name)
    assert pos.size_lots == sum(f.signed_lots for f in fills) == filled
    for f in fills:
        assert f.fee == fees.maker_rate * PERP.notional(f.price_ticks, f.amount_lots)
    assert abs(pos.fees - sum(f.fee for f in fills)) < 1e-12


@given(path=st.lists(market_event, max_size=25), seed=st.integers(0, 2**16))
def test_same_inputs_and_seed_give_the_same_reports(
    path: list[tuple[int, int, int, int]], seed: int
) -> None:
    lat = Latency(LatencyKind.LOGNORMAL, median_ns=3, sigma=1.0)
    params = EngineParams(
        queue_model=QueueModel.POWER_PROB,
        entry_latency=lat,
        response_latency=lat,
        seed=seed,
        book_window_ticks=4096,
    )
    first, second = _run(path, 7, params), _run(path, 7, params)
    assert first.reports == second.reports
    assert first.engine.position(PERP.name) == second.engine.position(PERP.name)


def test_actions_take_effect_after_the_entry_latency() -> None:
    h = Harness(
        EngineParams(
            entry_latency=Latency(median_ns=50),
            response_latency=Latency(median_ns=20),
            book_window_ticks=4096,
        )
    )
    rid = h.engine.submit(h.session, InsertOrder(PERP.name, Side.BUY, 0.001, 101.0), T0)
    h.market(events([(DEPTH_EVENT, -1, T0 + 40, 101, 0)]))  # the ask at 101 leaves first
    h.engine.advance_to(T0 + 100)
    h.drain()
    result = next(r for r in h.reports if isinstance(r, RequestResult) and r.request_id == rid)
    assert (result.effective_ns, result.deliver_ns) == (T0 + 50, T0 + 70)
    rep = order_report(result)
    assert rep.update.fills == ()  # nothing left at 101 when it arrived: it rests
    assert not [r for r in h.reports if isinstance(r, OrderNotice) and r.deliver_ns < T0 + 70]
