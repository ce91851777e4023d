"""Run statistics, the live status line and the summary table printed at exit."""

from __future__ import annotations

import logging
import math
import statistics
from typing import TYPE_CHECKING

import trio
from attrs import define, field

if TYPE_CHECKING:
    from thalex_trio.runtime.context import RunContext

_log = logging.getLogger("thalex_trio.status")

LATENCY_SAMPLES_MAX = 1_000_000
"""Tick-to-order samples kept (a long run keeps its first million)."""


@define
class RunStats:
    """Counters of one run; each written by the task named in its comment."""

    fills: int = 0  # order feed
    filled_lots: int = 0  # order feed
    orders_sent: int = 0  # executor: inserts, amends and cancels
    inserts: int = 0
    amends: int = 0
    cancels: int = 0
    rejects: int = 0  # executor
    rejects_by_code: dict[int, int] = field(factory=dict)  # executor: exchange error code -> n
    throttles: int = 0  # executor
    disconnects: int = 0  # restart policy
    plans: int = 0  # executor
    market_updates: int = 0  # feed
    bad_market_values: int = 0  # feed: notifications skipped because their values do not convert
    book_snapshots: int = 0  # feed: book snapshots applied (one per subscription)
    book_refreshes: int = 0  # session: book resubscribed because the feed doubted our copy
    round_trip_s: float | None = None  # executor: the latest request round trip
    latency_ns: list[int] = field(factory=list)  # tick-to-order clock
    latency_excludes_simulator: bool = False  # the in-process simulator's time left out
    latency_stages_ns: list[tuple[int, int, int]] = field(factory=list)
    """Each sample's (decide, plan, send) stages, in `latency_ns`' order (tick_to_order.py)."""
    started_s: float = 0.0
    first_order_s: float | None = None  # executor: Trio time of the first order sent
    last_order_s: float | None = None  # executor: and of the latest

    def record_order(self, now_s: float) -> None:
        """One order request sent at Trio time `now_s`."""
        self.orders_sent += 1
        if self.first_order_s is None:
            self.first_order_s = now_s
        self.last_order_s = now_s

    def orders_per_s(self) -> float:
        """Orders sent per second between the first and the latest (NaN before two)."""
        if self.first_order_s is None or self.last_order_s is None or self.orders_sent < 2:
            return math.nan
        return (self.orders_sent - 1) / max(self.last_order_s - self.first_order_s, 1e-9)

    def record_latency(self, ns: int, stages_ns: tuple[int, int, int]) -> None:
        """One tick-to-order sample and its (decide, plan, send) stages."""
        if len(self.latency_ns) < LATENCY_SAMPLES_MAX:
            self.latency_ns.append(ns)
            self.latency_stages_ns.append(stages_ns)

    def latency_stages_p50_us(self) -> dict[str, float]:
        """The median of each tick-to-order stage in µs (NaN without samples); the medians
        need not add up to the total's."""
        names = ("decide_p50_us", "plan_p50_us", "send_p50_us")
        if not self.latency_stages_ns:
            return dict.fromkeys(names, math.nan)
        return {
            name: statistics.median(stage) / 1000
            for name, stage in zip(names, zip(*self.latency_stages_ns, strict=True), strict=True)
        }

    def latency_percentiles_us(self) -> dict[str, float]:
        """p50/p90/p99/max of tick-to-order latency in µs (NaN without samples)."""
        samples = sorted(self.latency_ns)
        if not samples:
            nan = math.nan
            return {"p50_us": nan, "p90_us": nan, "p99_us": nan, "max_us": nan}

        def pick(q: float) -> float:
            return samples[min(len(samples) - 1, int(q * len(samples)))] / 1000

        return {
            "p50_us": pick(0.50),
            "p90_us": pick(0.90),
            "p99_us": pick(0.99),
            "max_us": samples[-1] / 1000,
        }


def status_line(ctx: RunContext, orders_per_s: float) -> str:
    """`mid=... bid=... ask=... pos=... pnl=... fills=... ord/s=... lat p50/p99=... ...`."""
    stats = ctx.stats
    trading = ctx.trading
    lat = stats.latency_percentiles_us()
    parts = [f"[{ctx.mode}]"]
    if trading is None:
        parts.append("connecting")
    else:
        inst = trading.instrument
        bid, ask = trading.best_bid_ticks, trading.best_ask_ticks
        mid = "-" if bid is None or ask is None else f"{inst.ticks_to_price(bid + ask) / 2:.2f}"
        ours_bid = max(
            (o.price_ticks for o in trading.tracker.orders() if o.side.sign > 0), default=None
        )
        ours_ask = min(
            (o.price_ticks for o in trading.tracker.orders() if o.side.sign < 0), default=None
        )
        position = trading.tracker.position
        mark = trading.mark_price
        pnl = "-" if mark is None else f"{position.pnl(inst, mark).total:.2f}"
        parts += [
            f"mid={mid}",
            f"our_bid={'-' if ours_bid is None else inst.ticks_to_price(ours_bid)}",
            f"our_ask={'-' if ours_ask is None else inst.ticks_to_price(ours_ask)}",
            f"pos={inst.lots_to_amount(position.size_lots):g}",
            f"pnl={pnl}",
            f"regime={trading.quoter.diagnostics().regime.value}",
        ]
    parts += [
        f"fills={stats.fills}",
        f"ord/s={orders_per_s:.1f}",
        f"t2o_p50={lat['p50_us']:.0f}us",
        f"t2o_p99={lat['p99_us']:.0f}us",
        f"state={ctx.trading_state.value}",
    ]
    return " ".join(parts)


async def run_status_line(ctx: RunContext, interval_s: float) -> None:
    """Log the status line every `interval_s` until cancelled."""
    last_sent, last_s = ctx.stats.orders_sent, trio.current_time()
    while True:
        await trio.sleep(interval_s)
        now = trio.current_time()
        rate = (ctx.stats.orders_sent - last_sent) / max(now - last_s, 1e-9)
        last_sent, last_s = ctx.stats.orders_sent, now
        _log.info("%s", status_line(ctx, rate))


def summary_table(ctx: RunContext, exit_code: int, elapsed_s: float) -> str:
    """The table printed at exit."""
    stats = ctx.stats
    lat = stats.latency_percentiles_us()
    stages = stats.latency_stages_p50_us()
    rows: list[tuple[str, str]] = [
        ("mode", ctx.mode),
        ("run id", str(ctx.run_id)),
        ("duration", f"{elapsed_s:.1f} s"),
        ("stopped because", ctx.stop_reason or "-"),
        ("exit code", str(exit_code)),
        (
            "trading state",
            (ctx.trading_state if ctx.breach is None else ctx.breach.trading_state).value,
        ),
        ("orders cancelled at exit", _cleanup_text(ctx.cleanup_complete)),
        ("market updates", str(stats.market_updates)),
        ("plans", str(stats.plans)),
        (
            "orders sent",
            f"{stats.orders_sent} ({stats.inserts} ins / {stats.amends} amd / {stats.cancels} cxl)",
        ),
        ("orders per second", f"{stats.orders_sent / max(elapsed_s, 1e-9):.1f}"),
        ("rejects / throttles", f"{stats.rejects} / {stats.throttles}"),
        ("reconnects", str(stats.disconnects)),
        ("book resnapshots", str(stats.book_refreshes)),
        ("fills", f"{stats.fills}"),
        (
            "tick-to-order p50 / p99 / max",
            f"{lat['p50_us']:.0f} / {lat['p99_us']:.0f} / {lat['max_us']:.0f} us "
            f"({len(stats.latency_ns)} samples"
            f"{', simulator time left out' if stats.latency_excludes_simulator else ''})",
        ),
        (
            "tick-to-order p50 by stage",
            f"decide {stages['decide_p50_us']:.0f} / plan {stages['plan_p50_us']:.0f}"
            f" / send {stages['send_p50_us']:.0f} us",
        ),
    ]
    trading = ctx.trading
    if trading is not None:
        inst = trading.instrument
        position = trading.tracker.position
        rows.append(("position", f"{inst.lots_to_amount(position.size_lots):g}"))
        if trading.mark_price is not None:
            pnl = position.pnl(inst, trading.mark_price)
            rows += [
                ("realised PnL", f"{pnl.realised:.4f}"),
                ("unrealised PnL", f"{pnl.unrealised:.4f}"),
                # As a contribution to the total, the way `report` shows it (a rebate is +).
                ("fees", f"{-pnl.fees:.4f}"),
                ("total PnL", f"{pnl.total:.4f}"),
            ]
    width = max(len(k) for k, _ in rows)
    line = "-" * (width + 40)
    body = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    return f"{line}\n{body}\n{line}"


def _cleanup_text(complete: bool | None) -> str:
    if complete is None:
        return "n/a"
    return "yes" if complete else "NO (see log)"
