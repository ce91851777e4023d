"""PNG charts of a backtest (matplotlib, Agg backend): mid with our quotes and fills,
inventory, and cumulative PnL by component."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thalex_trio.backtest import metrics

if TYPE_CHECKING:
    from pathlib import Path

    from thalex_trio.backtest.driver import BacktestResult

CHART_FILES = ("quotes.png", "inventory.png", "pnl.png")


def write_charts(result: BacktestResult, out_dir: Path) -> list[Path]:
    """Write the three charts into `out_dir`; returns their paths."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    tick = result.instrument.tick_size
    t0 = result.start_ns
    curve = metrics.pnl_curve(result)
    paths = [out_dir / name for name in CHART_FILES]

    fig, ax = plt.subplots(figsize=(12, 5))
    ax.plot((result.sample_ns - t0) / 1e9, result.sample_mid_ticks * tick, lw=0.8, label="mid")
    qt = (result.quote_ns - t0) / 1e9
    ax.step(qt, result.quote_bid_ticks * tick, where="post", lw=0.6, label="our best bid")
    ax.step(qt, result.quote_ask_ticks * tick, where="post", lw=0.6, label="our best ask")
    for side, colour, label in ((1, "green", "buys"), (-1, "red", "sells")):
        rows = [f for f in result.fills if f.side == side]
        ax.scatter(
            [(f.exch_ns - t0) / 1e9 for f in rows],
            [f.price_ticks * tick for f in rows],
            s=12,
            c=colour,
            label=label,
            zorder=3,
        )
    ax.set_xlabel("seconds from start")
    ax.set_ylabel("price")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(paths[0], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(12, 3.5))
    ax.step((curve.time_ns - t0) / 1e9, curve.position_lots, where="post")
    ax.axhline(result.position_limit_lots, ls="--", lw=0.6, c="grey")
    ax.axhline(-result.position_limit_lots, ls="--", lw=0.6, c="grey")
    ax.set_xlabel("seconds from start")
    ax.set_ylabel("position (lots)")
    fig.tight_layout()
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(12, 4))
    x = (curve.time_ns - t0) / 1e9
    for values, label in (
        (curve.total, "total"),
        (curve.spread_capture, "spread capture"),
        (curve.inventory, "inventory"),
        (-curve.fees, "fees (negative = paid)"),
        (curve.funding, "funding"),
    ):
        ax.plot(x, np.asarray(values), lw=0.8, label=label)
    ax.set_xlabel("seconds from start")
    ax.set_ylabel("PnL (quote currency)")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(paths[2], dpi=100)
    plt.close(fig)
    return paths
