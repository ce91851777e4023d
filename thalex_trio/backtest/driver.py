"""The deterministic backtest loop: recorded events -> the live strategy, risk, reconciler and
order tracker -> the matching engine, on virtual time taken from the data.

Time. The engine applies market events in exchange time. The bot lives in local time: it sees
an event at its `local_ts_ns` (exchange time plus the feed latency) and its requests reach the
engine after the engine's entry latency; reports come back after the response latency. The
bot's view of the market is a `FeedView`: the same book kernel replaying the events on their
local times, without orders, sampled at every grid point of a chunk in one compiled pass.

Decisions. The strategy decides on a grid of `requote_interval_ms` of local time, and only when
something it acts on changed since the last decision (best prices, or sizes too when the fair
value is the microprice; a trade; a report of ours), or `max_idle_ms` passed without a
decision (the estimators and regimes keep moving): the live quote loop conflates market data
the same way. The grid points that need a decision are found by a compiled scan over the
view's samples (`cadence.next_decision`); the engine is advanced straight to the next such
point, stopping early only when a report of ours falls due before it, so our reports reach the
strategy at the first grid point at or after their delivery. No Python runs for the points in
between: every event still updates the book, the queues and the fill logic (numba), and the
mid is still sampled there. The quoter is fed what changed at decision points: the top of book
at decision time and the trades printed since the last decision (each one, in order, to
`on_trade`), plus mark/index/funding when they moved. The reconciler is not called again while
its inputs are those of its last plan and that plan had no actions (it is a function of them).

Everything is a pure function of the events and the configuration (seeded latencies), so two
runs of the same inputs give the same results. The run ends at the last grid point of the data.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen
from numpy.typing import NDArray

from thalex_trio.backtest.cadence import KEY_COLUMNS, next_decision
from thalex_trio.backtest.settings import reconcile_limits
from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, Ticker, TopOfBook, Trade
from thalex_trio.domain.order import RequestKind
from thalex_trio.domain.position import Position
from thalex_trio.reconcile.params import ReconcileStyle
from thalex_trio.reconcile.reconciler import reconcile
from thalex_trio.reconcile.tracker import OrderTracker
from thalex_trio.risk import RiskSnapshot, RiskState, Verdict, evaluate, gate_ladder
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.from_actions import request_from_action
from thalex_trio.sim.engine.reports import (
    OrderNotice,
    OrderReport,
    PositionNotice,
    Report,
    RequestResult,
)
from thalex_trio.sim.engine.view import NO_ASK_TICKS, NO_BID_TICKS, FeedSamples, FeedView
from thalex_trio.sim.events import TRADE_EVENT, Events
from thalex_trio.strategy.market_state import Exposure
from thalex_trio.strategy.params import FairValueSource
from thalex_trio.strategy.quoter import Quoter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from thalex_trio.backtest.params import BacktestParams
    from thalex_trio.backtest.store_events import RunEvents
    from thalex_trio.config import AppConfig
    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.ids import ClientOrderId
    from thalex_trio.domain.order import Order
    from thalex_trio.domain.quote import QuoteLadder
    from thalex_trio.sim.engine.reports import RequestId

_KIND = {Insert: RequestKind.INSERT, Amend: RequestKind.AMEND, Cancel: RequestKind.CANCEL}
_BUY = Side.BUY
_MAKER = Liquidity.MAKER
_NEVER = -2  # below every key value (prices and sizes, -1 for an empty side)


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


class _Grid:
    """The grid points of one chunk with the view at each: decision keys and the mid.

    Arrays feed the compiled cadence scan; the same values as lists serve the per-decision
    Python code (a list item is much cheaper to read than a numpy scalar).
    """

    def __init__(
        self,
        points: NDArray[np.int64],
        samples: FeedSamples,
        sizes_matter: bool,
        mid: float,
        sampled: NDArray[np.bool_],
    ) -> None:
        self.points = points
        has_bid = samples.bid_ticks != NO_BID_TICKS
        has_ask = samples.ask_ticks != NO_ASK_TICKS
        keys = np.empty((points.shape[0], KEY_COLUMNS), dtype=np.int64)
        keys[:, 0] = np.where(has_bid, samples.bid_ticks, -1)
        keys[:, 1] = np.where(has_bid, samples.bid_lots, 0) if sizes_matter else 0
        keys[:, 2] = np.where(has_ask, samples.ask_ticks, -1)
        keys[:, 3] = np.where(has_ask, samples.ask_lots, 0) if sizes_matter else 0
        self.keys = keys
        # The mid where both sides are shown, else the last one known (as of `mid` before).
        both = has_bid & has_ask
        at = np.where(both, np.arange(points.shape[0]), -1)
        np.maximum.accumulate(at, out=at)
        raw = 0.5 * (samples.bid_ticks + samples.ask_ticks).astype(np.float64)
        mids = np.where(at >= 0, raw[np.maximum(at, 0)], mid)
        self.points_ns: list[int] = points.tolist()
        self.mid: list[float] = mids.tolist()
        self.key: list[tuple[int, ...]] = [tuple(row) for row in keys.tolist()]
        self.bid_ticks: list[int] = np.where(has_bid, samples.bid_ticks, -1).tolist()
        self.bid_lots: list[int] = samples.bid_lots.tolist()
        self.ask_ticks: list[int] = np.where(has_ask, samples.ask_ticks, -1).tolist()
        self.ask_lots: list[int] = samples.ask_lots.tolist()
        self.last_event_ns: list[int] = samples.last_event_ns.tolist()
        self.mark: list[float] = samples.mark.tolist()
        self.index: list[float] = samples.index.tolist()
        self.funding_rate: list[float] = samples.funding_rate.tolist()
        self.sampled: list[int] = np.flatnonzero(sampled).tolist()
        """Indices of the points on the sample grid."""
        self.sampled_at = 0
        """How many of `sampled` are recorded."""

    def top(self, name: str, p: int) -> TopOfBook:
        """The view's top of book at point `p`."""
        bid, ask = self.bid_ticks[p], self.ask_ticks[p]
        return TopOfBook(
            name,
            None if bid == -1 else BookLevel(bid, self.bid_lots[p]),
            None if ask == -1 else BookLevel(ask, self.ask_lots[p]),
            self.points_ns[p],
        )


class BacktestDriver:
    """Runs one backtest over a stream of event chunks (see the module docstring)."""

    def __init__(
        self,
        app: AppConfig,
        params: BacktestParams,
        instrument: Instrument,
        *,
        record: RunEvents | None = None,
    ) -> None:
        if app.reconcile.style is ReconcileStyle.MASS_QUOTE:
            raise ValueError("reconcile.style: the backtest drives the orders style only")
        self.app = app
        self.params = params
        self.instrument = instrument
        self.name = instrument.name
        self.engine = MatchingEngine([instrument], app.engine)
        self.session = self.engine.open_session()
        self.engine.set_cancel_on_disconnect(self.session)
        self._view = FeedView(app.engine.book_window_ticks)
        self.tracker = OrderTracker(instrument)
        self.quoter = Quoter(instrument, app.strategy, app.estimators, app.regimes, app.signals)
        self._limits = reconcile_limits(app)
        self._step_ns = max(round(params.requote_interval_ms * 1e6), 1)
        self._sample_ns = max(round(params.sample_interval_ms * 1e6), 1)
        self._risk: RiskState | None = None
        self._verdict: Verdict | None = None
        # Reconciling again is skipped while its inputs are those of a plan with no actions:
        # the ladder, the best prices and our orders (which change only with reports and the
        # actions we send). Not with a maximum order age: then the time is an input too.
        self._reconcile_memo = app.reconcile.max_order_age_s is None
        self._orders_changed = True
        self._reconciled: QuoteLadder | None = None
        self._reconciled_best: tuple[int | None, int | None] = (None, None)
        self._skipped_reconciles = 0
        self._record = record
        """Where the run's store events go, when the run is stored."""
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
        # The top-of-book key the last decision saw; no key equals the initial one.
        self._last_key = np.full(KEY_COLUMNS, _NEVER, dtype=np.int64)
        self._last_key_tuple: tuple[int, ...] = (_NEVER,) * KEY_COLUMNS
        self._last_ref = (math.nan, math.nan)
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
        step = self._step_ns
        next_ns: int | None = None
        for chunk in chunks:
            n = int(chunk.shape[0])
            if n == 0:
                continue
            self._feed(chunk)
            local = chunk["local_ts_ns"]
            last_local = int(local[-1])
            if next_ns is None:
                first = int(local[0])
                self._start_ns = first
                self._now_ns = first
                self._risk = RiskState.initial(first)
                if self._record is not None:
                    self._record.started(first)
                next_ns = (first // step + 1) * step
            # Grid points only up to the chunk's last time: the next chunk may hold more
            # events at that very time.
            if next_ns < last_local:
                count = (last_local - next_ns - 1) // step + 1
                self._run_points(next_ns + step * np.arange(count, dtype=np.int64))
                next_ns += count * step
            self._events += n
            if progress is not None:
                progress(self._events, last_local)
        if self._record is not None and self._start_ns is not None:
            self._record.stopped(self._now_ns, self._account, self._mid)
        return self._result(reader_counters() if reader_counters else {})

    def _feed(self, chunk: Events) -> None:
        self.engine.feed(self.name, chunk)
        self._view.feed(chunk)
        trades = chunk[chunk["kind"] == TRADE_EVENT]
        if trades.shape[0]:
            new = np.empty((trades.shape[0], 4), dtype=np.int64)
            new[:, 0] = trades["local_ts_ns"]
            new[:, 1] = trades["price_ticks"]
            new[:, 2] = trades["amount_lots"]
            new[:, 3] = trades["side"]
            self._trades = np.concatenate((self._trades[self._trade_at :], new))
            self._trade_at = 0

    def _run_points(self, points: NDArray[np.int64]) -> None:
        """Every grid point of one chunk: the view at each, then the decisions in order."""
        n = int(points.shape[0])
        grid = _Grid(
            points,
            self._view.sample(points),
            self._sizes_matter,
            self._mid,
            points % self._sample_ns < self._step_ns,
        )
        trades_upto = np.searchsorted(self._trades[:, 0], points, side="right").astype(np.int64)
        decided = 0
        i = 0
        while i < n:
            j = next_decision(
                points,
                grid.keys,
                trades_upto,
                i,
                self._last_key,
                self._trade_at,
                self._last_decision_ns,
                self._idle_ns,
            )
            j = self._through_reports(grid, i, j)
            if j >= n:
                break
            self._step(grid, j, int(trades_upto[j]))
            decided += 1
            i = j + 1
        self._record_samples(grid, n)
        self._mid = grid.mid[n - 1]
        self._now_ns = grid.points_ns[n - 1]
        self._skipped += n - decided

    def _through_reports(self, grid: _Grid, i: int, j: int) -> int:
        """Advance the engine towards point `j` (the chunk's last point when `j` is past it)
        and return the first point at or after `i` where a report of ours is delivered, if that
        comes before `j`: the strategy decides there, as it does on each of our reports."""
        engine = self.engine
        points = grid.points_ns
        n = len(points)
        last = points[n - 1]
        while True:
            due = engine.next_report_ns()
            if due is not None and due <= last:
                j = min(j, bisect_left(points, due, i))
            target = min(j, n - 1)
            # A report due by the point before the target moves the decision earlier.
            until = points[target - 1] if target > i else None
            if engine.advance_to(points[target], until_report_ns=until):
                due = engine.next_report_ns()
                if due is not None and due <= points[target]:
                    j = min(j, target)
                return j

    def _record_samples(self, grid: _Grid, upto: int) -> None:
        """Append the mid samples of grid points before index `upto` not yet recorded."""
        sampled = grid.sampled
        at = grid.sampled_at
        end = bisect_left(sampled, upto, at)
        if end > at:
            points, mids = grid.points_ns, grid.mid
            for p in sampled[at:end]:
                self._samples_ns.append(points[p])
                self._samples_mid.append(mids[p])
                if self._record is not None:
                    self._record.sample(grid.top(self.name, p), self._account, mids[p])
            grid.sampled_at = end

    def _step(self, grid: _Grid, j: int, trades_end: int) -> None:
        """Everything at one decision point: our reports, then the decision."""
        now = grid.points_ns[j]
        self._now_ns = now
        # Reports are applied with the samples and the mid as of the previous point.
        self._record_samples(grid, j)
        if j > 0:
            self._mid = grid.mid[j - 1]
        engine = self.engine
        if engine.now_ns < now:  # usually `_through_reports` has taken it there already
            engine.advance_to(now)
        reports = engine.drain_reports()
        if reports:
            self._orders_changed = True
            self._on_reports(reports)
            self.tracker.prune()  # terminal orders would otherwise be scanned at every decision
        self._record_samples(grid, j + 1)
        self._mid = grid.mid[j]
        key = grid.key[j]
        changed = key != self._last_key_tuple
        if changed:
            self._last_key_tuple = key
            self._last_key = grid.keys[j].copy()
        trades = self._trades[self._trade_at : trades_end].tolist()
        self._trade_at = trades_end
        self._decide(now, grid, j, changed, trades)

    def _decide(
        self, now: int, grid: _Grid, j: int, top_changed: bool, trades: list[list[int]]
    ) -> None:
        quoter = self.quoter
        name = self.name
        bid_ticks = grid.bid_ticks[j]
        ask_ticks = grid.ask_ticks[j]
        best_bid = None if bid_ticks == -1 else bid_ticks
        best_ask = None if ask_ticks == -1 else ask_ticks
        if top_changed:
            quoter.on_top_of_book(grid.top(name, j))
        for local_ns, price, lots, side in trades:
            quoter.on_trade(Trade(name, price, lots, _BUY if side > 0 else Side.SELL, local_ns))
        mark, index = grid.mark[j], grid.index[j]
        if (mark, index) != self._last_ref and not (math.isnan(mark) or math.isnan(index)):
            self._last_ref = (mark, index)
            rate = grid.funding_rate[j]
            quoter.on_ticker(
                Ticker(name, mark, index, now, funding_rate=None if math.isnan(rate) else rate)
            )
        self._last_decision_ns = now
        self._decisions += 1
        tracker = self.tracker
        position = tracker.position
        resting_buy, resting_sell, flight_buy, flight_sell = tracker.exposure_lots()
        exposure = Exposure(position.size_lots, resting_buy, resting_sell, flight_buy, flight_sell)
        ladder = quoter.decide(now, exposure)
        # Risk and the reconciler see the same orders: nothing changes the tracker in between.
        orders = tracker.orders()
        gated = self._gate(now, ladder, grid.last_event_ns[j], orders)
        self._record_quotes(now, gated)
        record = self._record
        if record is not None:
            record.decision(now, gated, quoter.diagnostics())
        best = (best_bid, best_ask)
        if (
            not self._orders_changed
            and self._reconcile_memo
            and best == self._reconciled_best
            and gated == self._reconciled
        ):
            # The reconciler is a function of these inputs, and for them it planned nothing.
            self._skipped_reconciles += 1
            return
        self._reconciled, self._reconciled_best = gated, best
        plan = reconcile(
            gated,
            orders,
            position_lots=position.size_lots,
            instrument=self.instrument,
            params=self.app.reconcile,
            limits=self._limits,
            next_client_order_id=tracker.next_client_order_id,
            best_bid_ticks=best_bid,
            best_ask_ticks=best_ask,
            now_ns=now,
        )
        self._orders_changed = bool(plan.actions)
        if not plan.actions:
            return
        bid_level = {q.price_ticks: i for i, q in enumerate(gated.bids)}
        ask_level = {q.price_ticks: i for i, q in enumerate(gated.asks)}
        for action in plan.actions:
            if isinstance(action, MassQuote):
                raise AssertionError("the orders style never plans a mass quote")
            tracker.on_sent(action, now)
            if record is not None:
                record.order(now, tracker.order(action.client_order_id))
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
        self, now: int, ladder: QuoteLadder, market_data_ns: int, orders: tuple[Order, ...]
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
            last_market_data_ns=market_data_ns,
        )
        verdict = evaluate(snapshot, self.app.risk, self._risk)
        if self._record is not None:
            self._record.verdict(now, self._verdict, verdict)
        self._verdict = verdict
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
        record = self._record
        for report in reports:
            if isinstance(report, OrderNotice):
                update = report.report.update
                fills = tracker.on_notification(update, side=report.report.side)
                self._on_fills(fills, report.deliver_ns)
                if record is not None:
                    order = tracker.order(update.client_order_id)
                    record.order(report.deliver_ns, order, update.change_reason)
            elif isinstance(report, RequestResult):
                pending = self._pending.pop(report.request_id, None)
                if pending is None:
                    continue  # MM protection and other requests without an order
                cid, kind = pending
                if report.error is not None:
                    self._rejected += 1
                    tracker.on_rejected(cid, kind, int(report.error.code))
                    if record is not None:
                        record.order(report.deliver_ns, tracker.order(cid))
                elif isinstance(report.outcome, OrderReport):
                    update = report.outcome.update
                    fills = tracker.on_result(kind, update)
                    self._on_fills(fills, report.deliver_ns)
                    if record is not None:
                        record.order(report.deliver_ns, tracker.order(cid), update.change_reason)
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
            if self._record is not None:
                self._record.fill(local_ns, fill, fair, level)

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
