"""A live run records what `report` needs: every request we send (as its order's pending
state) and every error answer, the desired ladder (sampled), the ticker and the index, the
instrument's grid and the configuration. The report over those records then has the order
messages, the rejects, the quoting quality and PnL in the quote currency.

The run goes on virtual time (its own `trio.run`), the store write and the report on real
time (the writer's worker thread must not see virtual deadlines jump).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
import pytest
import trio
import trio.testing

from thalex_trio.config import AppConfig
from thalex_trio.domain.events import (
    FillEvent,
    IndexPrint,
    InstrumentInfo,
    OrderEvent,
    QuoteDecision,
    RpcErrorEvent,
    RunStarted,
    RunStopped,
    StoreEvent,
    TickerSnapshot,
)
from thalex_trio.domain.order import OrderState
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.sim.server.faults import FaultPlan, RejectInsert
from thalex_trio.store.report import load_run, summarise
from thalex_trio.store.writer import WriterConfig, open_store_writer

from .harness import RecordingSink, make_context, open_server, run_bot

if TYPE_CHECKING:
    from pathlib import Path

    from thalex_trio.runtime.context import RunContext

DURATION_S = 20.0
SAMPLE_S = 0.5


async def _live_run() -> tuple[Outcome, RunContext, list[StoreEvent], int]:
    ctx = make_context()  # its clock follows this run's (virtual) Trio clock
    sink = RecordingSink()
    ctx.sink = sink
    ctx.quote_sample_interval_s = SAMPLE_S
    async with open_server() as server:
        server.inject(FaultPlan(reject_insert=RejectInsert(0.05)))  # some errors to record
        code = await run_bot(server, ctx, duration_s=DURATION_S)
        rejected_inserts = server.injected.get("reject_insert", 0)
    return code, ctx, sink.events, rejected_inserts


async def _store(dsn: str, events: list[StoreEvent], journal: Path) -> None:
    config = WriterConfig(journal_path=journal, fsync=False)
    async with open_store_writer(dsn, config) as writer:
        for event in events:
            writer.sink.emit(event)


def test_a_live_run_records_what_the_report_needs(db_dsn: str, tmp_path: Path) -> None:
    code, ctx, events, rejected_inserts = trio.run(
        _live_run, clock=trio.testing.MockClock(autojump_threshold=0)
    )
    assert code is Outcome.OK
    # A request as it leaves: its order's pending state, with no change reason yet (order
    # notifications applied while it is in flight carry the exchange's).
    requests = [
        e
        for e in events
        if isinstance(e, OrderEvent) and e.state.in_flight and e.change_reason is None
    ]
    assert len(requests) == ctx.stats.orders_sent > 0
    decisions = [e for e in events if isinstance(e, QuoteDecision)]
    # At most one per sample period (only when the ladder changed), and the market moves
    # often enough that most periods have one.
    assert DURATION_S / SAMPLE_S / 2 <= len(decisions) <= DURATION_S / SAMPLE_S + 1
    assert any(isinstance(e, InstrumentInfo) for e in events)
    errors = [e for e in events if isinstance(e, RpcErrorEvent)]
    assert len(errors) == ctx.stats.rejects > 0
    # The injected insert rejects, each once (and any amend or cancel that lost a race).
    inserts = [e for e in errors if e.method == "private/insert"]
    assert [e.code for e in inserts] == [20] * rejected_inserts
    assert rejected_inserts > 0
    # Market data beside the top of book: the ticker (100 ms channel) and the index.
    assert sum(isinstance(e, TickerSnapshot) for e in events) >= DURATION_S
    assert sum(isinstance(e, IndexPrint) for e in events) >= DURATION_S / 2

    # As `run_tree` brackets a run (the harness runs the supervised tree alone).
    start_ns, stop_ns = events[0].local_ns, events[-1].local_ns
    config = AppConfig()
    bracketed: list[StoreEvent] = [
        RunStarted(ctx.run_id, start_ns, "live", "test", config_json=config.snapshot_json()),
        *events,
        RunStopped(ctx.run_id, stop_ns, "duration", 0),
    ]
    trio.run(_store, db_dsn, bracketed, tmp_path / "journal.jsonl")
    with psycopg.connect(db_dsn) as conn:
        summary = summarise(load_run(conn, ctx.run_id))
    assert summary.order_messages == ctx.stats.orders_sent
    assert (summary.rejected, summary.throttled) == (ctx.stats.rejects, 0)
    (inst,) = summary.instruments
    assert inst.unit == "quote"  # valued on the instrument's grid, not in tick-lots
    assert inst.two_sided_fraction is not None
    assert inst.two_sided_fraction > 0.5
    assert inst.mean_quoted_spread_ticks is not None
    assert inst.mean_quoted_spread_ticks > 0
    inserted_lots = sum(e.amount_lots for e in requests if e.state is OrderState.PENDING_INSERT)
    filled_lots = sum(e.fill.amount_lots for e in events if isinstance(e, FillEvent))
    assert filled_lots > 0
    assert inst.fill_ratio == pytest.approx(filled_lots / inserted_lots)
    assert inst.time_at_limit_fraction is not None  # the limit came from the config snapshot
