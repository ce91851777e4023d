"""A stored run, summarised as MODELS.md §7 measures a market maker.

`load_run` reads one run from the store; `summarise` computes, per instrument:
PnL decomposed into spread capture (fill price against fair value at the fill), inventory PnL
(fair-value moves on the held position, to the last mid), fees and funding; fills per side and
liquidity; markouts at 1/5/30/60 s from the stored mids, per side and per ladder level;
inventory statistics; quoting quality; and, run-wide, per-minute Sharpe and maximum drawdown
of the recorded PnL. Money is in the quote currency when the run recorded the instrument's grids
(`InstrumentInfo`), else in tick-lots (one tick on one lot).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import orjson
from attrs import frozen
from numpy.typing import NDArray

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

MARKOUT_HORIZONS_S: tuple[int, ...] = (1, 5, 30, 60)
NS_PER_S = 10**9
MINUTE_NS = 60 * NS_PER_S


class ReportError(ValueError):
    """The run asked for does not exist, or the store holds no runs."""


_SENT_REQUEST = "state LIKE 'pending%%' AND change_reason IS NULL"
"""An order event that records a request we sent: the order's pending state, recorded as the
request leaves (no change reason). A notification applied while a request is in flight leaves
the order pending too, but carries the exchange's change reason."""


@frozen
class RunInfo:
    """What the run recorded about itself."""

    run_id: str
    mode: str
    version: str
    network: str
    start_ns: int
    stop_ns: int | None
    exit_reason: str | None
    exit_code: int | None
    config_json: str


@frozen
class FillRecord:
    """One stored fill, with the fair value it is measured against."""

    local_ns: int
    side_sign: int
    price_ticks: int
    amount_lots: int
    maker: bool
    fee: float
    fair_ticks: float | None
    level: int | None


@frozen
class InstrumentData:
    """Everything stored about one instrument in a run, as arrays sorted by local time."""

    name: str
    quote_per_tick_lot: float | None
    fills: tuple[FillRecord, ...]
    mid_ns: NDArray[np.int64]
    mid_ticks: NDArray[np.float64]
    quote_ns: NDArray[np.int64]
    quote_bid_ticks: NDArray[np.float64]  # NaN when no bid was quoted
    quote_ask_ticks: NDArray[np.float64]
    funding: float
    orders_inserted: int
    inserted_lots: int
    late_fees: float = 0.0
    """Fees learnt after their fills were recorded (`fill_fees`), in the quote currency."""


@frozen
class PositionPoint:
    """Total recorded PnL (all instruments) at one time, in the quote currency."""

    local_ns: int
    total: float


@frozen
class RunData:
    """A run as loaded from the store."""

    run: RunInfo
    instruments: tuple[InstrumentData, ...]
    order_messages: int
    rejected: int
    throttled: int
    rpc_errors: int
    pnl_points: tuple[PositionPoint, ...]


@frozen
class Markout:
    """Mean signed fair move after a fill (positive: the fill was good for us), in ticks."""

    horizon_s: int
    key: str  # "buy", "sell", "all" or "level N"
    mean_ticks: float
    count: int


@frozen
class InstrumentSummary:
    """The §7 measures of one instrument; money in `unit`."""

    name: str
    unit: str
    fills_buy: int
    fills_sell: int
    lots_buy: int
    lots_sell: int
    maker_fills: int
    taker_fills: int
    spread_capture: float
    inventory_pnl: float
    fees: float
    funding: float
    total_pnl: float
    markouts: tuple[Markout, ...]
    final_position_lots: int
    mean_position_lots: float
    max_abs_position_lots: int
    time_weighted_abs_position_lots: float
    time_at_limit_fraction: float | None
    two_sided_fraction: float | None
    mean_quoted_spread_ticks: float | None
    fill_ratio: float | None


@frozen
class RunSummary:
    """A whole run's report."""

    run: RunInfo
    duration_s: float
    instruments: tuple[InstrumentSummary, ...]
    order_messages: int
    messages_per_fill: float | None
    rejected: int
    throttled: int
    rpc_errors: int
    sharpe_per_minute: float | None
    max_drawdown: float | None


# -- loading -------------------------------------------------------------------------------------


def latest_run_id(conn: psycopg.Connection[TupleRow]) -> str:
    """The most recently started run; raises ReportError when the store has none."""
    row = conn.execute("SELECT run_id FROM runs ORDER BY local_ns DESC LIMIT 1").fetchone()
    if row is None:
        raise ReportError("the store holds no runs yet")
    return str(row[0])


def load_run(conn: psycopg.Connection[TupleRow], run_id: str) -> RunData:
    """Read one run; raises ReportError for an unknown run id."""
    row = conn.execute(
        "SELECT r.run_id, r.mode, r.version, r.network, r.local_ns, s.local_ns, s.exit_reason,"
        " s.exit_code, r.config::text FROM runs r LEFT JOIN run_stops s USING (run_id)"
        " WHERE r.run_id = %s",
        (run_id,),
    ).fetchone()
    if row is None:
        raise ReportError(f"no run {run_id!r} in the store")
    run = RunInfo(*row)
    names = sorted(
        {
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT instrument FROM fills WHERE run_id = %(r)s UNION"
                " SELECT DISTINCT instrument FROM top_of_book WHERE run_id = %(r)s UNION"
                " SELECT DISTINCT instrument FROM quote_decisions WHERE run_id = %(r)s",
                {"r": run_id},
            )
        }
    )
    instruments = tuple(_load_instrument(conn, run_id, name) for name in names)
    messages_row = conn.execute(
        f"SELECT count(*) FROM order_events WHERE run_id = %s AND {_SENT_REQUEST}", (run_id,)
    ).fetchone()
    errors_row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE code = 4 OR message ILIKE '%%throttl%%'"
        " OR message ILIKE '%%rate limit%%') FROM rpc_errors WHERE run_id = %s",
        (run_id,),
    ).fetchone()
    assert messages_row is not None
    assert errors_row is not None
    pnl_points = tuple(
        PositionPoint(int(t), float(v))
        for t, v in conn.execute(
            "SELECT local_ns, sum(realised + unrealised + funding - fees) OVER (ORDER BY local_ns)"
            " FROM (SELECT local_ns, instrument, realised - lag(realised, 1, 0.0) OVER w AS"
            " realised, unrealised - lag(unrealised, 1, 0.0) OVER w AS unrealised, funding -"
            " lag(funding, 1, 0.0) OVER w AS funding, fees - lag(fees, 1, 0.0) OVER w AS fees"
            " FROM position_snapshots WHERE run_id = %s"
            " WINDOW w AS (PARTITION BY instrument ORDER BY local_ns, seq)) d ORDER BY local_ns",
            (run_id,),
        )
    )
    return RunData(
        run=run,
        instruments=instruments,
        order_messages=int(messages_row[0]),
        rejected=int(errors_row[0]) - int(errors_row[1]),
        throttled=int(errors_row[1]),
        rpc_errors=int(errors_row[0]),
        pnl_points=pnl_points,
    )


def _load_instrument(conn: psycopg.Connection[TupleRow], run_id: str, name: str) -> InstrumentData:
    params = {"r": run_id, "i": name}
    grid = conn.execute(
        "SELECT tick_size, volume_tick_size FROM instruments WHERE run_id = %(r)s AND"
        " instrument = %(i)s ORDER BY local_ns DESC LIMIT 1",
        params,
    ).fetchone()
    fills = tuple(
        FillRecord(
            int(t), 1 if s == "buy" else -1, int(p), int(q), liq == "maker", float(f), fa, lv
        )
        for t, s, p, q, liq, f, fa, lv in conn.execute(
            "SELECT local_ns, side, price_ticks, amount_lots, liquidity, fee, fair_ticks, level"
            " FROM fills WHERE run_id = %(r)s AND instrument = %(i)s ORDER BY local_ns, seq",
            params,
        )
    )
    books = conn.execute(
        "SELECT local_ns, (bid_ticks + ask_ticks) / 2.0 FROM top_of_book WHERE run_id = %(r)s"
        " AND instrument = %(i)s AND bid_ticks IS NOT NULL AND ask_ticks IS NOT NULL"
        " ORDER BY local_ns",
        params,
    ).fetchall()
    quotes = conn.execute(
        "SELECT local_ns, (bids->0->>0)::float8, (asks->0->>0)::float8 FROM quote_decisions"
        " WHERE run_id = %(r)s AND instrument = %(i)s ORDER BY local_ns",
        params,
    ).fetchall()
    funding_row = conn.execute(
        "SELECT funding FROM position_snapshots WHERE run_id = %(r)s AND instrument = %(i)s"
        " ORDER BY local_ns DESC, seq DESC LIMIT 1",
        params,
    ).fetchone()
    inserts = conn.execute(
        "SELECT count(*), coalesce(sum(amount_lots), 0) FROM order_events WHERE run_id = %(r)s"
        f" AND instrument = %(i)s AND state = 'pending_insert' AND {_SENT_REQUEST}",
        params,
    ).fetchone()
    assert inserts is not None  # an aggregate returns one row
    late_fees = conn.execute(
        "SELECT coalesce(sum(fee_change), 0) FROM fill_fees WHERE run_id = %(r)s"
        " AND instrument = %(i)s",
        params,
    ).fetchone()
    assert late_fees is not None
    return InstrumentData(
        name=name,
        quote_per_tick_lot=None if grid is None else float(grid[0]) * float(grid[1]),
        fills=fills,
        mid_ns=np.array([b[0] for b in books], dtype=np.int64),
        mid_ticks=np.array([float(b[1]) for b in books], dtype=np.float64),
        quote_ns=np.array([q[0] for q in quotes], dtype=np.int64),
        quote_bid_ticks=np.array([math.nan if q[1] is None else q[1] for q in quotes]),
        quote_ask_ticks=np.array([math.nan if q[2] is None else q[2] for q in quotes]),
        funding=0.0 if funding_row is None else float(funding_row[0]),
        orders_inserted=int(inserts[0]),
        inserted_lots=int(inserts[1]),
        late_fees=float(late_fees[0]),
    )


# -- computing -----------------------------------------------------------------------------------


def _mid_at(data: InstrumentData, t_ns: int) -> float | None:
    """The last mid at or before `t_ns`."""
    i = int(np.searchsorted(data.mid_ns, t_ns, side="right")) - 1
    return None if i < 0 else float(data.mid_ticks[i])


def _fair(data: InstrumentData, fill: FillRecord) -> float | None:
    return fill.fair_ticks if fill.fair_ticks is not None else _mid_at(data, fill.local_ns)


def _markouts(data: InstrumentData) -> tuple[Markout, ...]:
    out: list[Markout] = []
    last_ns = int(data.mid_ns[-1]) if len(data.mid_ns) else -1
    for horizon_s in MARKOUT_HORIZONS_S:
        groups: dict[str, list[float]] = {}
        for fill in data.fills:
            later_ns = fill.local_ns + horizon_s * NS_PER_S
            fair = _fair(data, fill)
            later = _mid_at(data, later_ns) if later_ns <= last_ns else None
            if fair is None or later is None:
                continue  # the run ended before the horizon, or no mid was recorded
            value = fill.side_sign * (later - fair)
            keys = ["all", "buy" if fill.side_sign > 0 else "sell"]
            if fill.level is not None:
                keys.append(f"level {fill.level}")
            for key in keys:
                groups.setdefault(key, []).append(value)
        out.extend(
            Markout(horizon_s, key, sum(values) / len(values), len(values))
            for key, values in sorted(groups.items())
        )
    return tuple(out)


def _time_weighted(
    times_ns: list[int], values: list[float], end_ns: int
) -> tuple[float, list[float]]:
    """Total duration and per-step durations of a step function from times_ns to end_ns."""
    durations = [
        max(b - a, 0) / NS_PER_S for a, b in zip(times_ns, [*times_ns[1:], end_ns], strict=True)
    ]
    return sum(durations), durations


def summarise_instrument(
    data: InstrumentData, start_ns: int, end_ns: int, limit_lots: int | None
) -> InstrumentSummary:
    """The §7 measures of one instrument between `start_ns` and `end_ns`."""
    unit_value = data.quote_per_tick_lot or 1.0
    capture_tl = 0.0
    cash_tl = 0.0
    position = 0
    path_ns, path_q = [start_ns], [0.0]
    for fill in data.fills:
        signed = fill.side_sign * fill.amount_lots
        fair = _fair(data, fill)
        if fair is not None:
            capture_tl += fill.side_sign * (fair - fill.price_ticks) * fill.amount_lots
        cash_tl -= signed * fill.price_ticks
        position += signed
        path_ns.append(fill.local_ns)
        path_q.append(float(position))
    final_mid = float(data.mid_ticks[-1]) if len(data.mid_ticks) else None
    trading_tl = cash_tl + position * (final_mid if final_mid is not None else 0.0)
    fees = sum(f.fee for f in data.fills) + data.late_fees
    total_s, durations = _time_weighted(path_ns, path_q, end_ns)
    abs_q = [abs(q) for q in path_q]
    limit_fraction = None
    if limit_lots is not None and total_s > 0:
        at_limit = sum(d for d, q in zip(durations, abs_q, strict=True) if q >= limit_lots)
        limit_fraction = at_limit / total_s
    two_sided, spread = _quoting(data, end_ns)
    inserted = data.inserted_lots
    return InstrumentSummary(
        name=data.name,
        unit="quote" if data.quote_per_tick_lot is not None else "tick-lots",
        fills_buy=sum(1 for f in data.fills if f.side_sign > 0),
        fills_sell=sum(1 for f in data.fills if f.side_sign < 0),
        lots_buy=sum(f.amount_lots for f in data.fills if f.side_sign > 0),
        lots_sell=sum(f.amount_lots for f in data.fills if f.side_sign < 0),
        maker_fills=sum(1 for f in data.fills if f.maker),
        taker_fills=sum(1 for f in data.fills if not f.maker),
        spread_capture=capture_tl * unit_value,
        inventory_pnl=(trading_tl - capture_tl) * unit_value,
        fees=fees,
        funding=data.funding,
        total_pnl=trading_tl * unit_value - fees + data.funding,
        markouts=_markouts(data),
        final_position_lots=position,
        mean_position_lots=(
            sum(q * d for q, d in zip(path_q, durations, strict=True)) / total_s if total_s else 0.0
        ),
        max_abs_position_lots=int(max(abs_q)),
        time_weighted_abs_position_lots=(
            sum(q * d for q, d in zip(abs_q, durations, strict=True)) / total_s if total_s else 0.0
        ),
        time_at_limit_fraction=limit_fraction,
        two_sided_fraction=two_sided,
        mean_quoted_spread_ticks=spread,
        fill_ratio=(sum(f.amount_lots for f in data.fills) / inserted if inserted else None),
    )


def _quoting(data: InstrumentData, end_ns: int) -> tuple[float | None, float | None]:
    """Fraction of time with a two-sided quote, and the mean quoted spread in ticks."""
    if not len(data.quote_ns):
        return None, None
    both = ~np.isnan(data.quote_bid_ticks) & ~np.isnan(data.quote_ask_ticks)
    edges = np.append(data.quote_ns, max(end_ns, int(data.quote_ns[-1])))
    durations = np.diff(edges).astype(np.float64)
    total = float(durations.sum())
    fraction = float(durations[both].sum()) / total if total > 0 else None
    spreads = (data.quote_ask_ticks - data.quote_bid_ticks)[both]
    return fraction, (float(spreads.mean()) if len(spreads) else None)


def _risk_adjusted(points: tuple[PositionPoint, ...]) -> tuple[float | None, float | None]:
    """Sharpe of per-minute PnL changes (not annualised) and the maximum drawdown from peak."""
    if not points:
        return None, None
    totals = np.array([p.total for p in points])
    peak = np.maximum.accumulate(np.maximum(totals, 0.0))
    drawdown = float((peak - totals).max())
    minute = np.array([p.local_ns // MINUTE_NS for p in points])
    last_per_minute = totals[np.append(minute[1:] != minute[:-1], True)]
    changes = np.diff(np.concatenate(([0.0], last_per_minute)))
    if len(changes) < 2 or float(changes.std(ddof=1)) == 0.0:
        return None, drawdown
    return float(changes.mean() / changes.std(ddof=1)), drawdown


def _limit_lots(config_json: str) -> int | None:
    """The position limit from the run's configuration snapshot, when it names one."""
    try:
        config = orjson.loads(config_json)
    except orjson.JSONDecodeError:
        return None
    if isinstance(config, dict):
        for key in ("max_position_lots", "position_limit_lots"):
            value = config.get(key)
            if isinstance(value, int):
                return value
    return None


def summarise(data: RunData) -> RunSummary:
    """The report of a loaded run."""
    run = data.run
    last_seen = [int(d.mid_ns[-1]) for d in data.instruments if len(d.mid_ns)]
    last_seen += [f.local_ns for d in data.instruments for f in d.fills]
    end_ns = run.stop_ns if run.stop_ns is not None else max(last_seen, default=run.start_ns)
    limit = _limit_lots(run.config_json)
    instruments = tuple(
        summarise_instrument(d, run.start_ns, end_ns, limit) for d in data.instruments
    )
    fills = sum(len(d.fills) for d in data.instruments)
    sharpe, drawdown = _risk_adjusted(data.pnl_points)
    return RunSummary(
        run=run,
        duration_s=max(end_ns - run.start_ns, 0) / NS_PER_S,
        instruments=instruments,
        order_messages=data.order_messages,
        messages_per_fill=data.order_messages / fills if fills else None,
        rejected=data.rejected,
        throttled=data.throttled,
        rpc_errors=data.rpc_errors,
        sharpe_per_minute=sharpe,
        max_drawdown=drawdown,
    )
