"""The tick-to-order clock: which frame a decision starts from, and which send ends it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import trio

from thalex_trio.runtime.status import RunStats, summary_table
from thalex_trio.runtime.tick_to_order import TickToOrder
from thalex_trio.soak.bot import parse_summary_table

from .harness import make_context

if TYPE_CHECKING:
    from thalex_trio.thalex.frames import ThalexNotification

NOTE = cast("ThalexNotification", None)  # the hooks do not look inside


def clock_reading(values: list[int]) -> TickToOrder:
    readings = iter(values)
    return TickToOrder(RunStats(), clock_ns=lambda: next(readings))


def test_a_batch_starts_at_the_first_market_frame_after_the_feed_caught_up() -> None:
    clock = clock_reading([10, 20, 30, 40, 50, 60, 70])
    clock.on_frame(b"book", 0)  # 10: market
    clock.on_market(NOTE)
    clock.on_frame(b"reply", 0)  # 20: not market
    clock.on_frame(b"book", 0)  # 30: market, while the first is still queued
    clock.on_market(NOTE)
    clock.feed_took()
    clock.feed_took()
    assert clock.take_batch_origin() == 10
    clock.on_frame(b"reply", 0)  # 40: the feed is idle, but this is no market frame
    clock.on_frame(b"book", 0)  # 50: handed to the waiting feed ...
    clock.on_market(NOTE)
    clock.on_frame(b"book", 0)  # 60: ... which had not run yet when this one came
    clock.on_market(NOTE)
    clock.feed_took()  # the feed takes both and decides without yielding in between
    clock.feed_took()
    assert clock.take_batch_origin() == 50
    clock.on_frame(b"book", 0)  # the next decision starts afresh
    clock.on_market(NOTE)
    clock.feed_took()
    assert clock.take_batch_origin() == 70


async def test_the_sample_is_the_armed_task_s_next_send() -> None:
    stats = RunStats()
    readings = iter(range(100, 10_000, 100))
    clock = TickToOrder(stats, clock_ns=lambda: next(readings))

    sent_elsewhere = trio.Event()

    async def other_task_sends() -> None:
        await trio.lowlevel.checkpoint()
        clock.on_send("public/subscribe", 0)  # another task's request is no order of ours
        sent_elsewhere.set()

    clock.arm(origin_ns=50, published_ns=80)  # the plan is ready at 100
    async with trio.open_nursery() as nursery:
        nursery.start_soon(other_task_sends)
        await sent_elsewhere.wait()
    assert stats.latency_ns == []
    clock.on_send("private/insert", 0)  # reads 200
    clock.on_send("private/insert", 0)  # the plan's second order: no sample
    assert stats.latency_ns == [150]
    # Decided 30 after the frame, planned 20 after that, sent 100 after the plan.
    assert stats.latency_stages_ns == [(30, 20, 100)]
    assert stats.latency_stages_p50_us() == {
        "decide_p50_us": 0.03,
        "plan_p50_us": 0.02,
        "send_p50_us": 0.1,
    }
    clock.arm(origin_ns=250, published_ns=280)
    clock.disarm()  # every action turned moot
    clock.on_send("private/insert", 0)
    assert stats.latency_ns == [150]


async def test_the_exit_summary_shows_each_stage_s_median() -> None:
    await trio.lowlevel.checkpoint()
    ctx = make_context()  # reads Trio's clock: inside a run
    for total_ns, stages_ns in [
        (600_000, (200_000, 100_000, 300_000)),
        (900_000, (400_000, 100_000, 400_000)),
        (700_000, (300_000, 200_000, 200_000)),
    ]:
        ctx.stats.record_latency(total_ns, stages_ns)
    rows = parse_summary_table(summary_table(ctx, 0, 1.0))
    assert rows["tick-to-order p50 / p99 / max"] == "700 / 900 / 900 us (3 samples)"
    assert rows["tick-to-order p50 by stage"] == "decide 300 / plan 100 / send 300 us"
