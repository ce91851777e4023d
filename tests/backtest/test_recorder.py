"""The recorder against the in-process simulator, in virtual time: what it writes reads back
as events, a restart appends a gzip member, and size rotation keeps the order across files."""

from __future__ import annotations

import gzip
import zlib
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pytest
import trio
import trio.testing

from thalex_trio.backtest.readers import SourceFormat, open_event_stream
from thalex_trio.backtest.recorder import (
    FrameBuffer,
    Recorder,
    RecordingPlan,
    RecordingWriter,
    recording_files,
)
from thalex_trio.sim.events import DEPTH_SNAPSHOT_EVENT, TRADE_EVENT, concat_events
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.server.config import SimServerConfig, Synthetic
from thalex_trio.sim.server.server import open_sim_server

if TYPE_CHECKING:
    from pathlib import Path

    from thalex_trio.sim.events import Events

EPOCH_S = 1_720_000_000.0
WRITER_NOW_NS = 1_720_000_800 * 10**9  # a fixed wall clock: no hour rotation in these tests
URL = "ws://sim/ws/api/v2"
INSTRUMENT = "BTC-PERPETUAL"
BUSY = SyntheticParams(seed=7, arrival_a_per_s=20.0, options=None)


def sim_wall_clock() -> float:
    return EPOCH_S + trio.current_time()


async def record(directory: Path, seconds: float, rotate_bytes: int = 10**8) -> Recorder:
    """Record `seconds` of virtual time from a fresh simulator into `directory`."""
    config = SimServerConfig(
        listen=False, wall_clock=sim_wall_clock, market=Synthetic(BUSY), instrument=INSTRUMENT
    )
    writer = RecordingWriter(
        directory, rotate_bytes=rotate_bytes, wall_clock_ns=lambda: WRITER_NOW_NS
    )
    async with open_sim_server(config) as server:
        recorder = Recorder(
            URL, RecordingPlan((INSTRUMENT,)), writer, connect=server.connect_memory
        )
        async with trio.open_nursery() as nursery:
            # The deadline starts once the recorder is subscribed: the autojump clock runs on
            # while a worker thread (the writer's) is busy, so it must not cover the set-up.
            channels = await nursery.start(recorder.run)
            assert channels == [
                f"book.{INSTRUMENT}.none.10.100ms",
                f"ticker.{INSTRUMENT}.100ms",
                "recent_trades.BTCUSD.all",
                "price_index.BTCUSD",
                "instruments",
                "system",
            ]
            await trio.sleep(seconds)
            nursery.cancel_scope.cancel()
    return recorder


def read_events(paths: list[Path]) -> Events:
    stream = open_event_stream(
        paths, instrument_name=INSTRUMENT, tick_size=1.0, lot_size=0.001, underlying="BTCUSD"
    )
    assert stream.format is SourceFormat.THALEX
    events = concat_events(list(stream.chunks()))
    counters = stream.counters()
    assert counters["bad_lines"] == 0
    assert counters["truncated_files"] == 0
    return events


def lines_of(paths: list[Path]) -> list[bytes]:
    out: list[bytes] = []
    for path in paths:
        with gzip.open(path, "rb") as stream:
            out += stream.read().splitlines()
    return out


async def test_a_recording_reads_back_as_events(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    recorder = await record(tmp_path, 5.0)
    files = recording_files(tmp_path)
    assert files == recorder.writer.files
    assert len(files) == 1
    lines = lines_of(files)
    assert len(lines) == recorder.buffer.frames > 0
    assert recorder.buffer.dropped == 0
    stamps = []
    for line in lines:
        stamp, _, raw = line.partition(b" ")
        stamps.append(int(stamp))
        assert "channel_name" in orjson.loads(raw)  # notifications only, as received
    assert stamps == sorted(stamps)
    events = read_events(files)
    assert np.count_nonzero(events["kind"] == DEPTH_SNAPSHOT_EVENT) > 0
    assert np.count_nonzero(events["kind"] == TRADE_EVENT) > 0
    assert np.all(np.diff(events["local_ts_ns"]) >= 0)


async def test_a_restart_appends_a_gzip_member(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    first = await record(tmp_path, 3.0)
    (path,) = recording_files(tmp_path)
    before = path.read_bytes()
    events_before = read_events([path])
    second = await record(tmp_path, 3.0)
    assert recording_files(tmp_path) == [path]
    assert second.writer.files == [path]
    after = path.read_bytes()
    assert after.startswith(before)  # the earlier content is untouched
    appended = after[len(before) :]
    assert appended[:2] == b"\x1f\x8b"  # a new gzip member starts right after the old one
    member = zlib.decompressobj(wbits=31).decompress(appended)
    assert len(member.splitlines()) == second.buffer.frames > 0
    assert len(lines_of([path])) == first.buffer.frames + second.buffer.frames
    # Both sessions' book snapshots come back, the second one's events after the first's.
    events = read_events([path])
    assert events.shape[0] > events_before.shape[0]
    assert np.count_nonzero(events["kind"] == DEPTH_SNAPSHOT_EVENT) > np.count_nonzero(
        events_before["kind"] == DEPTH_SNAPSHOT_EVENT
    )


@pytest.fixture
def writer_paced_clock() -> trio.testing.MockClock:
    """Virtual time that waits for the writer's thread: it jumps only after the loop has been
    idle for 50 ms of real time. With the plain autojump clock, virtual seconds pass while a
    gzip batch is being written, so how much each flush holds (and how many files a size limit
    makes) would depend on how fast this machine runs the simulator."""
    return trio.testing.MockClock(autojump_threshold=0.05)


async def test_size_rotation_keeps_the_order_across_files(
    tmp_path: Path, writer_paced_clock: trio.testing.MockClock
) -> None:
    recorder = await record(tmp_path, 6.0, rotate_bytes=1500)
    files = recording_files(tmp_path)
    assert len(files) >= 3
    assert files == recorder.writer.files  # name order is write order
    for path in files[:-1]:
        assert path.stat().st_size >= 1500
    lines = lines_of(files)
    assert len(lines) == recorder.buffer.frames
    stamps = [int(line.partition(b" ")[0]) for line in lines]
    assert stamps == sorted(stamps)
    events = read_events(files)
    assert np.count_nonzero(events["kind"] == TRADE_EVENT) > 0


async def test_a_flush_cancelled_before_its_write_keeps_the_frames(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, wall_clock_ns=lambda: WRITER_NOW_NS)
    writer.open()
    recorder = Recorder(URL, RecordingPlan((INSTRUMENT,)), writer)
    frame = b'{"channel_name": "ticker.BTC-PERPETUAL.1000ms", "notification": {}}'
    recorder.buffer.add(frame, 1)
    with trio.CancelScope() as scope:
        scope.cancel()  # `to_thread.run_sync` checks for it before it starts the thread
        await recorder.flush()
    assert scope.cancelled_caught
    recorder.buffer.add(frame, 2)
    await recorder.flush()
    writer.close()
    (path,) = recording_files(tmp_path)
    stamps = [line.split(b" ", 1)[0] for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert stamps == [b"1", b"2"]  # the first frame was kept, in its place


def test_the_buffer_keeps_notifications_only_and_one_line_each() -> None:
    buffer = FrameBuffer()
    buffer.add('{"id": 1, "result": []}', 5)
    buffer.add('{"channel_name": "price_index.BTCUSD",\n "notification": {}}', 7)
    buffer.add(b'{"channel_name": "system", "notification": {"event": "reconnect"}}', 9)
    assert buffer.take() == [
        b'7 {"channel_name": "price_index.BTCUSD",  "notification": {}}\n',
        b'9 {"channel_name": "system", "notification": {"event": "reconnect"}}\n',
    ]
    assert buffer.take() == []
    assert buffer.frames == 2
