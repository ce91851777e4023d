"""A backtest's outputs as files: `summary.json` and `fills.csv`, byte-for-byte deterministic.

Keys are sorted and every float is rounded to `FLOAT_DECIMALS` decimals before encoding
(NaN and infinities become null), so the same inputs and configuration give the same bytes.
"""

from __future__ import annotations

import csv
import io
import math
from typing import TYPE_CHECKING

import orjson

from thalex_trio.backtest import metrics

if TYPE_CHECKING:
    from pathlib import Path

    from thalex_trio.backtest.driver import BacktestResult

FLOAT_DECIMALS = 9
SUMMARY_FILE = "summary.json"
FILLS_FILE = "fills.csv"
FILL_COLUMNS = (
    "exch_ns",
    "local_ns",
    "side",
    "price_ticks",
    "amount_lots",
    "fee",
    "maker",
    "level",
    "fair_ticks",
    "position_lots",
    "cash_tick_lots",
    "fees_total",
    "funding_total",
    "reported_pnl",
)


def summarise(
    result: BacktestResult, *, extra: dict[str, object] | None = None
) -> dict[str, object]:
    """The summary document of a run (plain JSON values)."""
    curve = metrics.pnl_curve(result)
    inst = result.instrument
    doc: dict[str, object] = {
        "instrument": {
            "name": inst.name,
            "tick_size": inst.tick_size,
            "lot_size": inst.volume_tick_size,
        },
        "period": {
            "start_ns": result.start_ns,
            "end_ns": result.end_ns,
            "duration_s": (result.end_ns - result.start_ns) / 1e9,
        },
        "events": result.events,
        "pnl": metrics.pnl_decomposition(result),
        "fills": metrics.fills_by_side_and_level(result.fills),
        "markouts": metrics.markouts(result),
        "inventory": metrics.inventory_stats(curve, result.position_limit_lots),
        "quoting": metrics.quoting_quality(result),
        "risk": metrics.risk_adjusted(curve),
        "data": dict(result.reader_counters),
        "engine": dict(result.engine_counters),
        "positions_agree": result.engine_position_lots
        == result.tracker_position_lots
        == result.account.size_lots,
    }
    if extra:
        doc.update(extra)
    return doc


def _clean(value: object) -> object:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, FLOAT_DECIMALS)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dumps(doc: dict[str, object]) -> bytes:
    """Deterministic JSON bytes of a summary (sorted keys, rounded floats, trailing newline)."""
    return orjson.dumps(_clean(doc), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def fills_csv(result: BacktestResult) -> str:
    """The fills ledger as CSV text (one row per fill, in delivery order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FILL_COLUMNS)
    for fill in result.fills:
        row: list[object] = []
        for name in FILL_COLUMNS:
            value = getattr(fill, name)
            if isinstance(value, bool):
                row.append(int(value))
            elif isinstance(value, float):
                row.append("" if not math.isfinite(value) else f"{value:.{FLOAT_DECIMALS}f}")
            else:
                row.append(value)
        writer.writerow(row)
    return buffer.getvalue()


def write_outputs(result: BacktestResult, out_dir: Path, doc: dict[str, object]) -> None:
    """Write `summary.json` and `fills.csv` into `out_dir` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SUMMARY_FILE).write_bytes(dumps(doc))
    (out_dir / FILLS_FILE).write_text(fills_csv(result), encoding="utf-8")
