"""The deterministic backtest loop: recorded events -> the live strategy, risk, reconciler and
order tracker -> the matching engine, on virtual time taken from the data.

Time. The engine applies market events in exchange time. The bot lives in local time: it sees
an event at its `local_ts_ns` (exchange time plus the feed latency) and its requests reach the
engine after the engine's entry latency; reports come back after the response latency. With a
feed latency, a second engine instance with no orders replays the same events on their local
times and serves as the bot's view of the book (the same book code, no copy of it).

Decisions. The strategy decides on a grid of `requote_interval_ms` of local time, and only when
something it acts on changed since the last decision (best prices, or sizes too when the fair
value is the microprice; a trade; a report of ours), or `max_idle_ms` passed without a
decision (the estimators and regimes keep moving): the live quote loop conflates market data
the same way. Our fill reports therefore reach the
strategy at the first grid point at or after their delivery. The quoter is fed what changed at
decision points, not every event: the top of book at decision time and the trades printed since
the last decision (each one, in order, to `on_trade`), plus mark/index/funding when they moved.
Between decisions every event still updates the book, the queues and the fill logic (numba).

Everything is a pure function of the events and the configuration (seeded latencies), so two
runs of the same inputs give the same results.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from thalex_trio.backtest.settings import reconcile_limits
from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import Ticker, Trade
from thalex_trio.domain.order import RequestKind
from thalex_trio.domain.position import Position
from thalex_trio.reconcile.params import ReconcileStyle
from thalex_trio.reconcile.reconciler import reconcile
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.risk import RiskSnapshot, RiskState, evaluate, gate_ladder
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.from_actions import request_from_action
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.engine.reports import (
    OrderNotice,
    OrderReport,
    PositionNotice,
    Report,
    RequestResult,
)
from thalex_trio.sim.events import TRADE_EVENT, Events
from thalex_trio.strategy.market_state import Exposure
from thalex_trio.strategy.params import FairValueSource
from thalex_trio.strategy.quoter import Quoter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from thalex_trio.backtest.params import BacktestParams
    from thalex_trio.config import AppConfig
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.ids import ClientOrderId
    from thalex_trio.domain.market import TopOfBook
    from thalex_trio.domain.order import Order
    from thalex_trio.domain.quote import QuoteLadder
    from thalex_trio.sim.engine.reports import RequestId

_KIND = {Insert: RequestKind.INSERT, Amend: RequestKind.AMEND, Cancel: RequestKind.CANCEL}
_BUY = Side.BUY
_MAKER = Liquidity.MAKER


@frozen
class FillRow:
    """One of our fills with the running account after it (the conservation ledger).

    Money is in tick-lots (one tick on one lot) except `fee` and the running `fees_total` /
    `funding_total`, which are quote currency. `fair_ticks` is the mid on the sample grid at or
    before the fill; `level` is the ladder level (0 = best) the order was sent for.
    """

    exch_ns: int
    local_ns: int
    side: int
    price_ticks: int
    amount_lots: int
    fee: float
    maker: bool
    level: int
    fair_ticks: float
    position_lots: int
    cash_tick_lots: int
    fees_total: float
    funding_total: float
    reported_pnl: float
    """The tracker position's own PnL (realised + unrealised - fees + funding) at the fair."""


@frozen
class BacktestResult:
    """What a run produced: samples, fills, decisions and counters (all deterministic)."""

    instrument: Instrument
    start_ns: int
    end_ns: int
    events: int
    decisions: int
    skipped_decisions: int
    order_messages: int
    rejected: int
    inserted_lots: int
    fills: tuple[FillRow, ...]
    sample_ns: NDArray[np.int64]
    sample_mid_ticks: NDArray[np.float64]
    quote_ns: NDArray[np.int64]
    quote_bid_ticks: NDArray[np.float64]
    quote_ask_ticks: NDArray[np.float64]
    funding_ns: NDArray[np.int64]
    funding_income: NDArray[np.float64]
    position_limit_lots: int
    horizons_s: tuple[int, ...]
    reader_counters: dict[str, int]
    engine_counters: dict[str, int]
    engine_position_lots: int
    tracker_position_lots: int
    account: Position
    """The fill ledger's final position (fills and funding), for the conservation checks."""


class BacktestDriver:
    """Runs one backtest over a stream of event chunks (see the module docstring)."""

    def __init__(self, app: AppConfig, params: BacktestParams, instrument: Instrument) -> None:
        if app.reconcile.style is ReconcileStyle.MASS_QUOTE:
            raise ValueError("reconcile.style: the backtest drives the orders style only")
        self.app = app
        self.params = params
        self.instrument = instrument
        self.name = instrument.name
        self.engine = MatchingEngine([instrument], app.engine)
        self.session = self.engine.open_session()
        self.engine.set_cancel_on_disconnect(self.session)
        self._view: MatchingEngine | None = None
        self.tracker = OrderTracker(instrument)
        self.quoter = Quoter(instrument, app.strategy, app.estimators, app.regimes, app.signals)
        self._limits = reconcile_limits(app)
        self._step_ns = max(round(params.requote_interval_ms * 1e6), 1)
        self._sample_ns = max(round(params.sample_interval_ms * 1e6), 1)
        self._risk: RiskState | None = None
        # Top-of-book sizes only move the fair value with the microprice; otherwise a size
        # change alone is not worth a decision (prices, trades and our reports are).
        self._sizes_matter = app.strategy.fair_value is FairValueSource.MICROPRICE
        self._idle_ns = round(params.max_idle_ms * 1e6)
        self._last_decision_ns = 0
        self._pending: dict[RequestId, tuple[ClientOrderId, RequestKind]] = {}
        self._levels: dict[ClientOrderId, int] = {}
        # Trades not yet shown to the quoter: (local ns, price ticks, lots, side) columns.
        self._trades = np.zeros((0, 4), dtype=np.int64)
        self._trade_at = 0
        self._last_top: tuple[int, int, int, int] | None = None
        self._last_ref = (math.nan, math.nan)
        self._changed = False
        self._mid = math.nan
        self._account = Position(instrument.name)
        self._rows: list[FillRow] = []
        self._samples_ns: list[int] = []
        self._samples_mid: list[float] = []
        self._quote_ns: list[int] = []
        self._quote_bid: list[float] = []
        self._quote_ask: list[float] = []
        self._funding_ns: list[int] = []
        self._funding_income: list[float] = []
        self._decisions = 0
        self._skipped = 0
        self._messages = 0
        self._rejected = 0
        self._inserted_lots = 0
        self._events = 0
        self._start_ns: int | None = None
        self._now_ns = 0

    # -- the loop ----------------------------------------------------------------------------

    def run(
        self,
        chunks: Iterable[Events],
        *,
        reader_counters: Callable[[], dict[str, int]] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> BacktestResult:
        """Replay every chunk; `progress(events, local_ns)` is called after each chunk."""
        next_ns: int | None = None
        for chunk in chunks:
            n = int(chunk.shape[0])
            if n == 0:
                continue
            self._feed(chunk)
            last_local = int(chunk["local_ts_ns"][-1])
            if next_ns is None:
                first = int(chunk["local_ts_ns"][0])
                self._start_ns = first
                self._now_ns = first
                self._risk = RiskState.initial(first)
                next_ns = (first // self._step_ns + 1) * self._step_ns
            # Decide only up to the chunk's last time: the next chunk may hold more events
            # at that very time.
            while next_ns < last_local:
                self._step(next_ns)
                next_ns += self._step_ns
            self._events += n
            if progress is not None:
                progress(self._events, last_local)
        if next_ns is not None:
            end = max(next_ns - self._step_ns, self._now_ns)
            self._step(end)
        return self._result(reader_counters() if reader_counters else {})

    def _feed(self, chunk: Events) -> None:
        self.engine.feed(self.name, chunk)
        local = chunk["local_ts_ns"]
        if self._view is None and not np.array_equal(local, chunk["exch_ts_ns"]):
            if self._events:
                raise ValueError("feed latency appeared mid-stream; use one latency model")
            self._view = MatchingEngine([self.instrument], EngineParams())
        if self._view is not None:
            seen = chunk.copy()
            seen["exch_ts_ns"] = local
            self._view.feed(self.name, seen)
        trades = chunk[chunk["kind"] == TRADE_EVENT]
        if trades.shape[0]:
            new = np.empty((trades.shape[0], 4), dtype=np.int64)
            new[:, 0] = trades["local_ts_ns"]
            new[:, 1] = trades["price_ticks"]
            new[:, 2] = trades["amount_lots"]
            new[:, 3] = trades["side"]
            self._trades = np.concatenate((self._trades[self._trade_at :], new))
            self._trade_at = 0

    def _step(self, now: int) -> None:
        """Everything at one point of the decision grid (local time `now`)."""
        self._now_ns = now
        engine = self.engine
        engine.advance_to(now)
        view = engine
        if self._view is not None:
            self._view.advance_to(now)
            view = self._view
        reports = engine.drain_reports()
        if reports:
            self._on_reports(reports)
            self.tracker.prune()  # terminal orders would otherwise be scanned at every decision
        top = view.top_of_book(self.name)
        bid, ask = top.bid, top.ask
        sizes = self._sizes_matter
        key = (
            -1 if bid is None else bid.price_ticks,
            0 if bid is None or not sizes else bid.amount_lots,
            -1 if ask is None else ask.price_ticks,
            0 if ask is None or not sizes else ask.amount_lots,
        )
        if bid is not None and ask is not None:
            self._mid = 0.5 * (bid.price_ticks + ask.price_ticks)
        if now % self._sample_ns < self._step_ns:
            self._samples_ns.append(now)
            self._samples_mid.append(self._mid)
        trades = self._trades
        at = self._trade_at
        end = at
        if at < trades.shape[0] and trades[at, 0] <= now:
            end = int(np.searchsorted(trades[:, 0], now, side="right"))
        if (
            key != self._last_top
            or end > at
            or self._changed
            or now - self._last_decision_ns >= self._idle_ns
        ):
            self._decide(now, top, key, trades[at:end], view)
            self._trade_at = end
        else:
            self._skipped += 1

    def _decide(
        self,
        now: int,
        top: TopOfBook,
        key: tuple[int, int, int, int],
        trades: NDArray[np.int64],
        view: MatchingEngine,
    ) -> None:
        quoter = self.quoter
        name = self.name
        if key != self._last_top:
            quoter.on_top_of_book(top)
            self._last_top = key
        for local_ns, price, lots, side in trades.tolist():
            quoter.on_trade(Trade(name, price, lots, _BUY if side > 0 else Side.SELL, local_ns))
        mark, index, rate = view.reference(name)
        if (mark, index) != self._last_ref and not (math.isnan(mark) or math.isnan(index)):
            self._last_ref = (mark, index)
            quoter.on_ticker(
                Ticker(name, mark, index, now, funding_rate=None if math.isnan(rate) else rate)
            )
        self._changed = False
        self._last_decision_ns = now
        self._decisions += 1
        tracker = self.tracker
        position = tracker.position
        resting_buy, resting_sell, flight_buy, flight_sell = tracker.exposure_lots()
        exposure = Exposure(position.size_lots, resting_buy, resting_sell, flight_buy, flight_sell)
        ladder = quoter.decide(now, exposure)
        # Risk and the reconciler see the same orders: nothing changes the tracker in between.
        orders = tracker.orders()
        gated = self._gate(now, ladder, top, orders)
        self._record_quotes(now, gated)
        plan = reconcile(
            gated,
            orders,
            position_lots=position.size_lots,
            instrument=self.instrument,
            params=self.app.reconcile,
            limits=self._limits,
            next_client_order_id=tracker.next_client_order_id,
            best_bid_ticks=None if top.bid is None else top.bid.price_ticks,
            best_ask_ticks=None if top.ask is None else top.ask.price_ticks,
            now_ns=now,
        )
        if not plan.actions:
            return
        bid_level = {q.price_ticks: i for i, q in enumerate(gated.bids)}
        ask_level = {q.price_ticks: i for i, q in enumerate(gated.asks)}
        for action in plan.actions:
            if isinstance(action, MassQuote):
                raise AssertionError("the orders style never plans a mass quote")
            tracker.on_sent(action, now)
            request_id = self.engine.submit(
                self.session, request_from_action(action, self.instrument), now
            )
            self._messages += 1
            cid = action.client_order_id
            self._pending[request_id] = (cid, _KIND[type(action)])
            if isinstance(action, Insert):
                levels = bid_level if action.side is _BUY else ask_level
                self._levels[cid] = levels.get(action.price_ticks, len(levels))
                self._inserted_lots += action.amount_lots
            elif isinstance(action, Amend):
                order = tracker.order(cid)
                if order is not None:
                    levels = bid_level if order.side is _BUY else ask_level
                    self._levels[cid] = levels.get(action.price_ticks, len(levels))

    def _gate(
        self, now: int, ladder: QuoteLadder, top: TopOfBook, orders: tuple[Order, ...]
    ) -> QuoteLadder:
        assert self._risk is not None
        tracker = self.tracker
        position = tracker.position
        mid = self._mid
        pnl = self._pnl(mid) if not math.isnan(mid) else 0.0
        snapshot = RiskSnapshot(
            now_ns=now,
            instrument=self.instrument,
            position_lots=position.size_lots,
            orders=orders,
            pnl=pnl,
            mark_price=None if math.isnan(mid) else mid * self.instrument.tick_size,
            last_market_data_ns=top.time_ns,
        )
        verdict = evaluate(snapshot, self.app.risk, self._risk)
        self._risk = verdict.state
        return gate_ladder(ladder, verdict, position.size_lots, self.instrument.min_order_lots)

    def _pnl(self, fair_ticks: float) -> float:
        account = self._account
        unit = self.instrument.quote_per_tick_lot
        trading = account.cash_tick_lots + account.size_lots * fair_ticks
        return trading * unit - account.fees + account.funding

    def _record_quotes(self, now: int, ladder: QuoteLadder) -> None:
        self._quote_ns.append(now)
        self._quote_bid.append(float(ladder.bids[0].price_ticks) if ladder.bids else math.nan)
        self._quote_ask.append(float(ladder.asks[0].price_ticks) if ladder.asks else math.nan)

    # -- reports -----------------------------------------------------------------------------

    def _on_reports(self, reports: list[Report]) -> None:
        tracker = self.tracker
        self._changed = True
        for report in reports:
            if isinstance(report, OrderNotice):
                update = report.report.update
                fills = tracker.on_notification(update, side=report.report.side)
                self._on_fills(fills, report.deliver_ns)
            elif isinstance(report, RequestResult):
                pending = self._pending.pop(report.request_id, None)
                if pending is None:
                    continue  # MM protection and other requests without an order
                cid, kind = pending
                if report.error is not None:
                    self._rejected += 1
                    tracker.on_rejected(cid, kind, int(report.error.code))
                elif isinstance(report.outcome, OrderReport):
                    fills = tracker.on_result(kind, report.outcome.update)
                    self._on_fills(fills, report.deliver_ns)
            elif isinstance(report, PositionNotice) and report.funding_paid:
                self._funding_ns.append(report.deliver_ns)
                self._funding_income.append(-report.funding_paid)
                self._account = self._account.apply_funding(-report.funding_paid)

    def _on_fills(self, fills: tuple[Fill, ...], local_ns: int) -> None:
        if not fills:
            return
        samples = self._samples_mid
        fair = samples[-1] if samples else self._mid
        if math.isnan(fair):
            fair = self._mid
        fair_price = fair * self.instrument.tick_size
        for fill in fills:
            self.quoter.on_own_fill(fill.side, fill.time_ns)
            # The ledger applies fills one by one (the tracker's position only shows the state
            # after a whole report), so the conservation check has a point per fill.
            account = self._account = self._account.apply_fill(fill)
            level = self._levels.get(fill.client_order_id, -1) if fill.client_order_id else -1
            reported = (
                account.pnl(self.instrument, fair_price).total if not math.isnan(fair) else 0.0
            )
            self._rows.append(
                FillRow(
                    exch_ns=fill.time_ns,
                    local_ns=local_ns,
                    side=fill.side.sign,
                    price_ticks=fill.price_ticks,
                    amount_lots=fill.amount_lots,
                    fee=fill.fee,
                    maker=fill.liquidity is _MAKER,
                    level=level,
                    fair_ticks=fair,
                    position_lots=account.size_lots,
                    cash_tick_lots=account.cash_tick_lots,
                    fees_total=account.fees,
                    funding_total=account.funding,
                    reported_pnl=reported,
                )
            )

    # -- result ------------------------------------------------------------------------------

    def _result(self, reader_counters: dict[str, int]) -> BacktestResult:
        start = self._start_ns if self._start_ns is not None else 0
        return BacktestResult(
            instrument=self.instrument,
            start_ns=start,
            end_ns=self._now_ns,
            events=self._events,
            decisions=self._decisions,
            skipped_decisions=self._skipped,
            order_messages=self._messages,
            rejected=self._rejected,
            inserted_lots=self._inserted_lots,
            fills=tuple(self._rows),
            sample_ns=np.asarray(self._samples_ns, dtype=np.int64),
            sample_mid_ticks=np.asarray(self._samples_mid, dtype=np.float64),
            quote_ns=np.asarray(self._quote_ns, dtype=np.int64),
            quote_bid_ticks=np.asarray(self._quote_bid, dtype=np.float64),
            quote_ask_ticks=np.asarray(self._quote_ask, dtype=np.float64),
            funding_ns=np.asarray(self._funding_ns, dtype=np.int64),
            funding_income=np.asarray(self._funding_income, dtype=np.float64),
            position_limit_lots=self.app.strategy.position_limit_lots,
            horizons_s=self.params.markout_horizons_s,
            reader_counters=reader_counters,
            engine_counters=self.engine.stats(self.name),
            engine_position_lots=self.engine.position(self.name).size_lots,
            tracker_position_lots=self.tracker.position.size_lots,
            account=self._account,
        )
