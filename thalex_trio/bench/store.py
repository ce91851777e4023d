"""`scripts/bench.py store`: rows per second through the writer into the embedded PostgreSQL,
and the quote loop's p99 latency with the store on divided by off, in the same run.

Options: `--market-rows N`, `--execution-rows N`, `--loop-s S` (each of the off and on phases).
The loop ticks every millisecond and emits 5 market events and 1 execution event per tick (a
busy market); its latency is the time from the tick's due time to the end of its work.

The ratio comes from a loop woken by bytes a feed thread sends on a socket, as the runtime's
quote loop is woken by market data. A loop driven by `trio.sleep_until` (kept as `timer_*`
for comparison) mostly measures trio's timer: epoll's timeout is rounded up to whole
milliseconds, so its p99 is about 1.25 ms with the store off, which hides a millisecond of
disturbance in the noise floor. Off and on run in alternating 1 s segments so the machine's
(shared, bursty) load hits both alike, in an order that swaps every round; a first round
warms both up and is not measured.
"""

from __future__ import annotations

import argparse
import socket
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
SEGMENT_S = 1.0


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
    """Rows per second from the first emit until every row is committed.

    The writer's own task flushes each full batch while the producer goes on emitting, as in
    a run: rows are built at `emit` on the event loop while the worker thread copies the
    previous batch and the server stores it. The producer only waits once two batches are
    queued: measured is the writer's rate, not the sampling past the sink's high-water mark.
    """
    before = sum(writer.stats.written_rows.values())
    start = time.perf_counter()
    for i in range(0, len(events), EMIT_CHUNK):
        for event in events[i : i + EMIT_CHUNK]:
            writer.sink.emit(event)
        if writer.sink.backlog >= 2 * writer.config.batch_rows:
            await writer.flush()  # waits for the writer's flush in progress, then writes
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


def _feed(sender: socket.socket, start_s: float, ticks: int) -> None:
    """Stand-in for the exchange feed, in its own OS thread: one byte every TICK_S, on time.

    `time.sleep` wakes within tens of microseconds, where trio's timer rounds up to whole
    milliseconds (epoll's resolution): ticks driven this way measure the loop, not the timer.
    """
    for tick in range(ticks):
        delay_s = start_s + tick * TICK_S - time.perf_counter()
        if delay_s > 0:
            time.sleep(delay_s)
        sender.send(b"t")


async def _reacting_loop(sink: EventSink, duration_s: float) -> list[float]:
    """The quote loop as the runtime runs it: woken by market data arriving on a socket.

    Latency of a tick = end of its work minus the time its data was due. The store can delay
    this in every way that matters (the GIL, CPU, work on the trio thread, `emit`), while the
    off phase sees only the machine's own wake-up noise.
    """
    ticks = int(duration_s / TICK_S)
    feed_end, loop_end = socket.socketpair()
    start_s = time.perf_counter() + 0.01
    latencies_s: list[float] = []
    with feed_end, trio.socket.from_stdlib_socket(loop_end) as receiver:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.to_thread.run_sync, _feed, feed_end, start_s, ticks)
            while len(latencies_s) < ticks:
                arrived = len(await receiver.recv(4096))
                for _ in range(arrived):
                    tick = len(latencies_s)
                    for j in range(5):
                        sink.emit(_book(tick * 5 + j))
                    sink.emit(_execution(tick))
                    latencies_s.append(time.perf_counter() - (start_s + tick * TICK_S))
    return latencies_s


def _quantile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100)[percent - 1]


def _p99(values: list[float]) -> float:
    return _quantile(values, 99)


async def _bench(
    dsn: str, journal: Path, market_rows: int, execution_rows: int, loop_s: float
) -> dict[str, float | int | str]:
    config = WriterConfig(
        journal_path=journal,
        batch_rows=20_000,
        flush_age_s=0.1,
        market_capacity=max(market_rows, 200_000) + 1,
    )
    async with open_store_writer(dsn, config) as writer:
        market_rate = await _throughput(writer, [_book(i) for i in range(market_rows)])
        # The events are built before timing (the rate is the writer's) and freed after: a
        # heap holding 300,000 of them would make the loop phase's collections slow, which
        # is the benchmark's artefact, not the store's.
        execution_rate = await _throughput(writer, [_execution(i) for i in range(execution_rows)])
    loops = {"reacting": _reacting_loop, "timer": _quote_loop}
    latencies_s: dict[tuple[str, bool], list[float]] = {}
    async with open_store_writer(dsn, WriterConfig(journal_path=journal)) as writer:
        # Short off and on segments, alternated, so that the machine's load (shared, bursty)
        # hits both alike; the writer stays open and a flush between segments (not measured)
        # keeps one segment's writes out of the next off segment. The order of off and on
        # swaps every round, so neither always runs first after the other's flush, and a
        # first round of each (not measured) warms both up: the writer's connection, the
        # allocator, the code paths.
        rounds = max(round(loop_s / SEGMENT_S), 1)
        for round_index in range(rounds + 1):
            order = (False, True) if round_index % 2 else (True, False)
            for name, loop in loops.items():
                for store_on in order:
                    sink: EventSink = writer.sink if store_on else NullSink()
                    samples = await loop(sink, SEGMENT_S)
                    if round_index > 0:
                        latencies_s.setdefault((name, store_on), []).extend(samples)
                    await writer.flush()
    off = latencies_s["reacting", False]
    on = latencies_s["reacting", True]
    timer_off = latencies_s["timer", False]
    timer_on = latencies_s["timer", True]
    return {
        "market_rows_per_s": round(market_rate),
        "execution_rows_per_s": round(execution_rate),
        "p99_ratio_on_off": round(_p99(on) / _p99(off), 3),
        "p99_off_ms": round(_p99(off) * 1e3, 3),
        "p99_on_ms": round(_p99(on) * 1e3, 3),
        "timer_p99_ratio_on_off": round(_p99(timer_on) / _p99(timer_off), 3),
        "timer_p99_off_ms": round(_p99(timer_off) * 1e3, 3),
        "timer_p99_on_ms": round(_p99(timer_on) * 1e3, 3),
        "p90_off_ms": round(_quantile(off, 90) * 1e3, 3),
        "p90_on_ms": round(_quantile(on, 90) * 1e3, 3),
        "database": "embedded PostgreSQL",
    }


def run(argv: list[str]) -> dict[str, float | int | str]:
    """Run the benchmark on a fresh embedded server in a temporary directory."""
    parser = argparse.ArgumentParser(prog="bench.py store")
    parser.add_argument("--market-rows", type=int, default=200_000)
    parser.add_argument("--execution-rows", type=int, default=100_000)
    parser.add_argument("--loop-s", type=float, default=6.0)
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
