"""Parameter sweeps: `--sweep key=v1,v2,...` (several keys make a grid), one backtest per
point across local processes, one comparison table. Each point is an independent,
deterministic backtest, so the table does not depend on the number of workers."""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from thalex_trio.backtest.runner import run_backtest
from thalex_trio.backtest.settings import build_config
from thalex_trio.config import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

TABLE_COLUMNS = (
    ("pnl", "total"),
    ("pnl", "spread_capture"),
    ("pnl", "inventory"),
    ("pnl", "fees"),
    ("fills", "count"),
    ("inventory", "max_abs_lots"),
    ("risk", "sharpe_per_minute"),
    ("risk", "max_drawdown"),
)


def sweep_points(specs: Sequence[str]) -> list[list[str]]:
    """The grid as lists of `key=value` assignments, in a fixed order."""
    axes: list[list[str]] = []
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or not key or not values:
            raise ConfigError([f"--sweep {spec!r}: expected key=v1,v2,..."])
        axes.append([f"{key}={v.strip()}" for v in values.split(",") if v.strip()])
    return [list(point) for point in itertools.product(*axes)]


def _run_point(
    table: dict[str, object],
    environ: dict[str, str],
    assignments: list[str],
    paths: list[str],
) -> dict[str, object]:
    config = build_config(table, environ, assignments)
    _, doc = run_backtest(config, [Path(p) for p in paths])
    row: dict[str, object] = {"point": " ".join(assignments)}
    for section, key in TABLE_COLUMNS:
        part = doc.get(section)
        row[f"{section}.{key}"] = part.get(key) if isinstance(part, dict) else None
    return row


def run_sweep(
    table: Mapping[str, object],
    environ: Mapping[str, str],
    base_assignments: Sequence[str],
    specs: Sequence[str],
    paths: Sequence[Path],
    *,
    workers: int | None = None,
) -> list[dict[str, object]]:
    """Run every grid point (validated first) and return one row per point, in grid order."""
    points = sweep_points(specs)
    for point in points:  # fail before spawning anything
        build_config(table, environ, [*base_assignments, *point])
    jobs = max(1, min(workers or os.cpu_count() or 1, len(points)))
    args = [
        (dict(table), dict(environ), [*base_assignments, *point], [str(p) for p in paths])
        for point in points
    ]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(_run_point, *zip(*args, strict=True)))
    for row, point in zip(rows, points, strict=True):
        row["point"] = " ".join(point)
    return rows


def format_table(rows: list[dict[str, object]]) -> str:
    """A fixed-width comparison table (also valid TSV when split on two spaces)."""
    headers = ["point"] + [f"{s}.{k}" for s, k in TABLE_COLUMNS]

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.6g}"
        return "-" if value is None else str(value)

    body = [[cell(row.get(h)) for h in headers] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines) + "\n"
