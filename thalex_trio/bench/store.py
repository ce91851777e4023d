"""`scripts/bench.py store`: rows per second through the writer into the embedded PostgreSQL,
and the quote loop's p99 latency with the store on divided by off, in the same run.

Options: `--market-rows N`, `--execution-rows N`, `--loop-s S` (each of the off and on phases).
The loop ticks every millisecond and emits 5 market events and 1 execution event per tick (a
busy market); its latency is the time from the tick's due time to the end of its work.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
import trio
from psycopg import conninfo

from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.events import (
    FillEvent,
    OrderEvent,
    RunId,
    StoreEvent,
    TopOfBookSnapshot,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ClientOrderId, TradeId
from thalex_trio.domain.market import BookLevel, TopOfBook
from thalex_trio.domain.order import OrderState
from thalex_trio.store.db import migrate
from thalex_trio.store.embedded import open_embedded_postgres
from thalex_trio.store.sink import EventSink, NullSink
from thalex_trio.store.writer import StoreWriter, WriterConfig, open_store_writer

RUN = RunId("bench")
INSTRUMENT = "BTC-PERPETUAL"
TICK_S = 0.001
EMIT_CHUNK = 5_000


def _book(i: int) -> StoreEvent:
    t_ns = time.time_ns()
    book = TopOfBook(
        INSTRUMENT, BookLevel(100_000 + i % 50, 1 + i % 7), BookLevel(100_010, 3), t_ns
    )
    return TopOfBookSnapshot(RUN, t_ns, book)


def _execution(i: int) -> StoreEvent:
    t_ns = time.time_ns()
    if i % 2:
        fill = Fill(TradeId(f"T{i}"), INSTRUMENT, Side.BUY, 100_000, 1, Liquidity.MAKER, 0.01, t_ns)
        return FillEvent(RUN, t_ns, fill, fair_ticks=100_000.5, level=0)
    return OrderEvent(
        RUN, t_ns, ClientOrderId(i), INSTRUMENT, Side.SELL, OrderState.OPEN, 100_010, 2, 0
    )


async def _throughput(writer: StoreWriter, events: list[StoreEvent]) -> float:
    """Rows per second from the first emit until every row is committed."""
    before = sum(writer.stats.written_rows.values())
    start = time.perf_counter()
    for i in range(0, len(events), EMIT_CHUNK):
        for event in events[i : i + EMIT_CHUNK]:
            writer.sink.emit(event)
        # Keep the producer within the writer's reach: measured is the writer's rate, not
        # the sampling that would start past the sink's high-water mark.
        while writer.sink.backlog >= writer.config.batch_rows:
            await writer.flush()
        await trio.lowlevel.checkpoint()
    await writer.flush()
    written = sum(writer.stats.written_rows.values()) - before
    if written != len(events):
        raise RuntimeError(f"wrote {written} of {len(events)} rows: {writer.stats}")
    return written / (time.perf_counter() - start)


async def _quote_loop(sink: EventSink, duration_s: float) -> list[float]:
    await trio.lowlevel.checkpoint()
    latencies_s: list[float] = []
    start = trio.current_time()
    tick = 0
    while (due := start + tick * TICK_S) < start + duration_s:
        await trio.sleep_until(due)
        for j in range(5):
            sink.emit(_book(tick * 5 + j))
        sink.emit(_execution(tick))
        latencies_s.append(trio.current_time() - due)
        tick += 1
    return latencies_s


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def _bench(
    dsn: str, journal: Path, market_rows: int, execution_rows: int, loop_s: float
) -> dict[str, float | int | str]:
    config = WriterConfig(
        journal_path=journal,
        batch_rows=20_000,
        flush_age_s=0.1,
        market_capacity=max(market_rows, 200_000) + 1,
    )
    market = [_book(i) for i in range(market_rows)]
    execution = [_execution(i) for i in range(execution_rows)]
    async with open_store_writer(dsn, config) as writer:
        market_rate = await _throughput(writer, market)
        execution_rate = await _throughput(writer, execution)
    off: list[float] = []
    on: list[float] = []
    # Alternate off and on halves so that drift in the machine's load hits both alike.
    for _ in range(2):
        off += await _quote_loop(NullSink(), loop_s / 2)
        async with open_store_writer(dsn, WriterConfig(journal_path=journal)) as writer:
            on += await _quote_loop(writer.sink, loop_s / 2)
    return {
        "market_rows_per_s": round(market_rate),
        "execution_rows_per_s": round(execution_rate),
        "p99_ratio_on_off": round(_p99(on) / _p99(off), 3),
        "p99_off_ms": round(_p99(off) * 1e3, 3),
        "p99_on_ms": round(_p99(on) * 1e3, 3),
        "database": "embedded PostgreSQL",
    }


def run(argv: list[str]) -> dict[str, float | int | str]:
    """Run the benchmark on a fresh embedded server in a temporary directory."""
    parser = argparse.ArgumentParser(prog="bench.py store")
    parser.add_argument("--market-rows", type=int, default=200_000)
    parser.add_argument("--execution-rows", type=int, default=100_000)
    parser.add_argument("--loop-s", type=float, default=4.0)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="thalex_bench_") as tmp,
        open_embedded_postgres(Path(tmp) / "pg") as server,
    ):
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        dsn = conninfo.make_conninfo(server.dsn(), dbname="bench")
        migrate(dsn)
        return trio.run(
            _bench,
            dsn,
            Path(tmp) / "journal.jsonl",
            int(args.market_rows),
            int(args.execution_rows),
            float(args.loop_s),
        )
