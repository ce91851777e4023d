"""From what a finished run left behind to its summary: the end-of-run invariants, the
figures, and the artifacts written for diagnosis."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import trio
from attrs import frozen

from thalex_trio.domain.fill import Fill
from thalex_trio.soak import bot
from thalex_trio.soak.end_checks import (
    BotOrderEvent,
    every_kind_injected,
    fills_exactly_once,
    memory_bounded,
    positions_agree,
    views_agree,
)
from thalex_trio.soak.invariants import InvariantResult
from thalex_trio.soak.summary import SoakSummary

if TYPE_CHECKING:
    from pathlib import Path

    from thalex_trio.soak.database import StoredRun
    from thalex_trio.soak.harness import RunState
    from thalex_trio.soak.leaks import SecretScanner

VIEW_PERSIST_S = 2.0
"""How long the bot's and the simulator's open orders may differ while messages travel."""


@frozen
class BotEnd:
    """How the bot ended: its exit status, its exit summary table, our orders the simulator
    still held after it exited."""

    exit_code: int | None
    table: dict[str, str]
    orders_left: int


@frozen
class SimEnd:
    """The simulator at the end: our position, every fill it made for us (with the session
    whose order filled), its fault counters and the market's trade count."""

    position_lots: int
    fills: tuple[tuple[int, Fill], ...]
    fault_hits: dict[str, int]
    market_trades: int
    lot_size: float
    wall_origin_ns: int
    """The wall clock at the soak's origin (fills carry wall-clock times)."""


def build_summary(
    run: RunState,
    bot_end: BotEnd,
    sim: SimEnd,
    stored: StoredRun,
    scanner: SecretScanner,
    *,
    elapsed_s: float,
    outages: int,
) -> SoakSummary:
    """Every invariant's verdict and the run's figures."""
    options = run.options
    table = bot_end.table
    run.recovery.close()
    events = [BotOrderEvent(t, cid, state) for t, cid, state in stored.order_events]
    invariants = (
        _clean_exit(run, bot_end),
        run.cod.result(),
        run.exposure.result(),
        run.recovery.result(),
        run.reconnect.result(),
        views_agree(run.snapshots, events, VIEW_PERSIST_S),
        fills_exactly_once(
            [str(f.trade_id) for _, f in sim.fills],
            [t for t, _ in stored.fills],
            {str(f.trade_id): _describe(sim, session, f) for session, f in sim.fills},
        ),
        positions_agree(
            sim.position_lots,
            sum(lots for _, lots in stored.fills),
            _position_lots(table.get("position"), sim.lot_size),
        ),
        memory_bounded(run.warm_rss, run.rss[-1][1] if run.rss else None, options.rss_factor),
        every_kind_injected(options.kinds, [r.fault.kind for r in run.recovery.recoveries]),
        scanner.result("bot logs, artifacts folder, stored rows"),
    )
    traffic = {
        "orders sent (bot)": table.get("orders sent", "-"),
        "rejects / throttles (bot)": table.get("rejects / throttles", "-"),
        "reconnects (bot)": table.get("reconnects", "-"),
        "fills (simulator)": str(len(sim.fills)),
        "fills (store)": str(len(stored.fills)),
        "fills (bot)": table.get("fills", "-"),
        "position (simulator)": f"{sim.position_lots} lots",
        "largest |position|": f"{run.exposure.max_abs_position_lots} lots",
        "market trades (simulator)": str(sim.market_trades),
        "database outages": str(outages),
        "store run": f"{stored.run_id} ({stored.rows} rows scanned)",
        "bot RSS warm / end": _rss_text(run),
        "tick-to-order p50/p99/max (bot)": table.get("tick-to-order p50 / p99 / max", "-"),
        "longest status-line gap (bot)": _longest_gap(run.status_times),
        "stopped (SIGTERM) at": "-" if run.stopped_at_s is None else f"t={run.stopped_at_s:.1f}s",
    }
    return SoakSummary(
        seed=options.seed,
        duration_s=options.duration_s,
        elapsed_s=elapsed_s,
        compressed=run.schedule.compressed,
        kinds=tuple(k.value for k in options.kinds),
        recovery_bound_s=options.recovery_bound_s,
        rss_factor=options.rss_factor,
        bot_overrides=dict(bot.BOT_OVERRIDES),
        recoveries=tuple(run.recovery.recoveries),
        invariants=invariants,
        sim_fault_hits=sim.fault_hits,
        traffic=traffic,
        bot_exit_code=bot_end.exit_code,
        notes=tuple(run.bot_log[:20]),
    )


async def write_views(path: Path, run: RunState, stored: StoredRun, wall_origin_ns: int) -> None:
    """The simulator's open orders at every poll and the bot's order events, merged in time
    order as CSV (an artifact for diagnosing a disagreement)."""
    rows = [
        (
            s.wall_ns,
            f"sim,{int(s.connected)},{s.session_start_ns},{' '.join(map(str, sorted(s.open_ids)))}",
        )
        for s in run.snapshots
    ]
    rows += [(t, f"bot,,,{cid} {state}") for t, cid, state in stored.order_events]
    rows.sort(key=lambda row: row[0])
    lines = ["t_s,source,connected,session_start_ns,orders"]
    lines += [f"{(t - wall_origin_ns) / 1e9:.3f},{text}" for t, text in rows]
    await trio.Path(path).write_text("\n".join(lines) + "\n")


async def write_fills(path: Path, fills: tuple[tuple[int, Fill], ...]) -> None:
    """Every fill the simulator made for us, as CSV (an artifact for diagnosis)."""
    lines = ["trade_id,time_ns,session,side,lots,price_ticks"]
    lines += [
        f"{f.trade_id},{f.time_ns},{session},{f.side.value},{f.amount_lots},{f.price_ticks}"
        for session, f in fills
    ]
    await trio.Path(path).write_text("\n".join(lines) + "\n")


def _clean_exit(run: RunState, end: BotEnd) -> InvariantResult:
    problems = []
    if run.exited_early or not run.started.is_set():
        problems.append("the bot stopped before it was told to")
    if end.exit_code != 0:
        problems.append(f"exit status {end.exit_code} after SIGTERM")
    cancelled = end.table.get("orders cancelled at exit")
    if cancelled != "yes":
        problems.append(f"orders cancelled at exit: {cancelled}")
    if end.orders_left:
        problems.append(f"{end.orders_left} orders of ours still at the simulator")
    return InvariantResult(
        "no_crash_clean_exit",
        "the bot runs through every fault without stopping, and on SIGTERM exits 0 with "
        "every order cancelled (none left at the simulator)",
        not problems,
        "; ".join(problems) or "exit 0, every order cancelled",
    )


def _describe(sim: SimEnd, session_id: int, fill: Fill) -> str:
    at_s = (fill.time_ns - sim.wall_origin_ns) / 1e9
    return f"{fill.side.value} {fill.amount_lots} lots at t={at_s:.1f}s on session {session_id}"


def _position_lots(amount_text: str | None, lot_size: float) -> int | None:
    if amount_text is None:
        return None
    try:
        return round(float(amount_text) / lot_size)
    except ValueError:
        return None


def _rss_text(run: RunState) -> str:
    end = run.rss[-1][1] if run.rss else None
    if run.warm_rss is None or end is None:
        return "-"
    return f"{run.warm_rss / 2**20:.1f} / {end / 2**20:.1f} MiB"


def _longest_gap(times: list[float]) -> str:
    if len(times) < 2:
        return "-"
    return f"{max(b - a for a, b in itertools.pairwise(times)):.1f} s"
