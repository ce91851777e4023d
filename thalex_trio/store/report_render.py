"""Showing a `RunSummary`: a plain-text table for the terminal and an optional PNG chart."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

    from thalex_trio.store.report import InstrumentSummary, RunData, RunSummary


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _time(ns: int | None) -> str:
    if ns is None:
        return "-"
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _rows(title: str, rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(k) for k, _ in rows)
    return [title, *(f"  {k.ljust(width)}  {v}" for k, v in rows), ""]


def _instrument_lines(s: InstrumentSummary) -> list[str]:
    lines = _rows(
        f"{s.name}: PnL ({s.unit})",
        [
            ("spread capture", _fmt(s.spread_capture)),
            ("inventory", _fmt(s.inventory_pnl)),
            ("fees", _fmt(-s.fees)),
            ("funding", _fmt(s.funding)),
            ("total", _fmt(s.total_pnl)),
        ],
    )
    lines += _rows(
        f"{s.name}: fills and inventory (lots)",
        [
            ("fills buy / sell", f"{s.fills_buy} / {s.fills_sell}"),
            ("lots buy / sell", f"{s.lots_buy} / {s.lots_sell}"),
            ("maker / taker", f"{s.maker_fills} / {s.taker_fills}"),
            ("final position", str(s.final_position_lots)),
            ("mean position (time-weighted)", _fmt(s.mean_position_lots, 2)),
            ("max |position|", str(s.max_abs_position_lots)),
            ("time-weighted |position|", _fmt(s.time_weighted_abs_position_lots, 2)),
            ("time at the limit", _pct(s.time_at_limit_fraction)),
        ],
    )
    lines += _rows(
        f"{s.name}: quoting",
        [
            ("two-sided quote time", _pct(s.two_sided_fraction)),
            ("mean quoted spread (ticks)", _fmt(s.mean_quoted_spread_ticks, 2)),
            ("fill ratio (lots filled / quoted)", _pct(s.fill_ratio)),
        ],
    )
    if s.markouts:
        keys = sorted({m.key for m in s.markouts}, key=lambda k: (k.startswith("level"), k))
        horizons = sorted({m.horizon_s for m in s.markouts})
        by = {(m.key, m.horizon_s): m for m in s.markouts}
        header = "  " + "side".ljust(10) + "".join(f"{h:>10}s" for h in horizons)
        lines += [f"{s.name}: markouts (ticks, + is good for us; n in brackets)", header]
        for key in keys:
            cells = []
            for h in horizons:
                m = by.get((key, h))
                cells.append(f"{'-' if m is None else f'{m.mean_ticks:+.2f}({m.count})':>11}")
            lines.append("  " + key.ljust(10) + "".join(cells))
        lines.append("")
    return lines


def render_text(summary: RunSummary) -> str:
    """The report as a terminal table."""
    run = summary.run
    lines = _rows(
        f"run {run.run_id}",
        [
            ("mode / network", f"{run.mode} / {run.network or '-'}"),
            ("version", run.version),
            ("started", _time(run.start_ns)),
            ("stopped", _time(run.stop_ns)),
            ("duration", f"{summary.duration_s:,.1f} s"),
            ("exit", "-" if run.exit_reason is None else f"{run.exit_reason} ({run.exit_code})"),
        ],
    )
    for instrument in summary.instruments:
        lines += _instrument_lines(instrument)
    lines += _rows(
        "orders and risk",
        [
            ("order messages", str(summary.order_messages)),
            ("messages per fill", _fmt(summary.messages_per_fill, 1)),
            ("rejected / throttled", f"{summary.rejected} / {summary.throttled}"),
            ("Sharpe of per-minute PnL", _fmt(summary.sharpe_per_minute, 3)),
            ("max drawdown", _fmt(summary.max_drawdown)),
        ],
    )
    return "\n".join(lines)


def render_png(data: RunData, path: Path) -> None:
    """Chart mid, best quotes and fills, inventory and PnL over time into `path` (Agg)."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    start_ns = data.run.start_ns
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(11, 8))
    price_ax, inv_ax, pnl_ax = axes
    for inst in data.instruments:
        price_ax.plot(
            (inst.mid_ns - start_ns) / 1e9, inst.mid_ticks, lw=0.8, label=f"{inst.name} mid"
        )
        q_s = (inst.quote_ns - start_ns) / 1e9
        price_ax.step(q_s, inst.quote_bid_ticks, where="post", lw=0.6, alpha=0.7, label="bid quote")
        price_ax.step(q_s, inst.quote_ask_ticks, where="post", lw=0.6, alpha=0.7, label="ask quote")
        for sign, marker, colour in ((1, "^", "tab:green"), (-1, "v", "tab:red")):
            side = [f for f in inst.fills if f.side_sign == sign]
            price_ax.scatter(
                [(f.local_ns - start_ns) / 1e9 for f in side],
                [f.price_ticks for f in side],
                marker=marker,
                color=colour,
                s=18,
                zorder=3,
            )
        times = [(f.local_ns - start_ns) / 1e9 for f in inst.fills]
        position = np.cumsum([f.side_sign * f.amount_lots for f in inst.fills])
        inv_ax.step([0.0, *times], [0, *position], where="post", label=inst.name)
    pnl_ax.plot(
        [(p.local_ns - start_ns) / 1e9 for p in data.pnl_points],
        [p.total for p in data.pnl_points],
        color="black",
        lw=0.9,
    )
    price_ax.set_ylabel("price (ticks)")
    price_ax.legend(loc="upper left", fontsize="small")
    inv_ax.set_ylabel("position (lots)")
    pnl_ax.set_ylabel("PnL (quote)")
    pnl_ax.set_xlabel("seconds since start")
    fig.suptitle(f"run {data.run.run_id}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
