"""`thalex_trio record`: raw Thalex market data to gzip JSON-lines files, for replay.

Every notification frame is stored exactly as received, one line `<local_receive_ns> <raw
JSON>` (the session's `on_frame` hook stamps it before decoding); RPC replies are left out.
`readers.thalex_recording` reads these files back as engine events.

Files are `<prefix>_<YYYYMMDDTHHMMSSZ>[_<seq>].jsonl.gz`, named by their UTC start time (a
sequence number when several start within one second), so name order is time order
(`recording_files`). A file is closed and a new one started when its compressed size reaches
`rotate_bytes` or the UTC hour changes. A restart never truncates or overwrites: it appends a
new gzip member to the newest file if that file is whole, of the current hour and under the
size limit, else it starts a new file. Each batch is written with a sync flush, so a crash
loses at most the batch being written (the reader stops quietly at a truncated member).

Tasks: the session's reader (frames -> `FrameBuffer`, an append), the drains (the session's
event streams are bounded and would hold up the reader), and the flusher (every
`FLUSH_INTERVAL_S`, one batch to the gzip writer in a worker thread). A dropped connection is
retried with backoff; the exchange re-sends book snapshots on the new subscription.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import re
import time
import zlib
from typing import TYPE_CHECKING, BinaryIO, Literal, TypeVar

import trio
from attrs import frozen
from trio_websocket import ConnectionClosed, HandshakeError

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.thalex.channels import (
    INSTRUMENTS,
    SYSTEM,
    Channel,
    Delay,
    book_channel,
    price_index_channel,
    recent_trades_channel,
    ticker_channel,
)
from thalex_trio.thalex.errors import SessionClosed
from thalex_trio.thalex.session import default_connector, open_thalex_session
from thalex_trio.thalex.wire_requests import ThalexIndexRequest, ThalexInstrumentsRequest

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

    from trio_websocket import WebSocketConnection

    from thalex_trio.thalex.credentials import Credentials
    from thalex_trio.thalex.network import Network
    from thalex_trio.thalex.session import ThalexSession
    from thalex_trio.thalex.wire_market import ThalexInstrument

_log = logging.getLogger(__name__)

T = TypeVar("T")

FILE_PREFIX = "thalex"
FILE_SUFFIX = ".jsonl.gz"
ROTATE_BYTES = 100 * 2**20
"""Default size (compressed, on disk) at which a file is closed and the next one started."""

FLUSH_INTERVAL_S = 1.0
"""Period of the flusher: one gzip batch per second keeps the thread hops rare."""

MAX_PENDING_BYTES = 256 * 2**20
"""Frames waiting for the writer beyond this (a stalled disk) are dropped and counted."""

SETUP_TIMEOUT_S = 30.0
"""Deadline for instrument discovery and the subscription after each connect."""

RETRY_INITIAL_S = 1.0
RETRY_MAX_S = 30.0
"""Reconnect backoff: doubles from the first to the second value."""

_HOUR_NS = 3600 * 10**9
_NAME = re.compile(r"^(?P<prefix>.+)_(?P<stamp>\d{8}T\d{6}Z)(?:_(?P<seq>\d{4}))?\.jsonl\.gz$")
_RETRYABLE: tuple[type[BaseException], ...] = (
    SessionClosed,
    ConnectionClosed,
    HandshakeError,
    OSError,
    trio.TooSlowError,
)


class RecordingError(ValueError):
    """The recording cannot start as asked (e.g. an instrument the exchange does not list)."""


def recording_files(directory: Path, prefix: str = FILE_PREFIX) -> list[Path]:
    """The recording files in `directory`, oldest first (start time, then sequence)."""
    found: list[tuple[str, int, Path]] = []
    for path in directory.glob(f"{prefix}_*{FILE_SUFFIX}"):
        match = _NAME.match(path.name)
        if match is not None and match["prefix"] == prefix:
            found.append((match["stamp"], int(match["seq"] or 0), path))
    return [path for _, _, path in sorted(found)]


def _start_hour(path: Path) -> int:
    match = _NAME.match(path.name)
    assert match is not None  # only called on `recording_files` results
    start = dt.datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return int(start.timestamp()) // 3600


def _is_whole_gzip(path: Path) -> bool:
    """True if every member of `path` is complete (a crash leaves a truncated last member)."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error):
        return False
    return True


class RecordingWriter:
    """Appends batches of lines to the current gzip member; rotates and resumes (module doc).

    Synchronous: the recorder calls it from one worker thread at a time.
    """

    def __init__(
        self,
        directory: Path,
        *,
        rotate_bytes: int = ROTATE_BYTES,
        prefix: str = FILE_PREFIX,
        wall_clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if rotate_bytes <= 0:
            raise ValueError(f"rotate_bytes must be > 0, got {rotate_bytes}")
        self.directory = directory
        self.rotate_bytes = rotate_bytes
        self.prefix = prefix
        self._clock_ns = wall_clock_ns
        self._raw: BinaryIO | None = None
        self._gz: gzip.GzipFile | None = None
        self._hour = 0
        self._resume: Path | None = None
        self.path: Path | None = None
        """The file being written."""
        self.files: list[Path] = []
        """Every file this writer wrote to, in order (a resumed file first)."""
        self.lines_written = 0

    def open(self) -> None:
        """Choose where the first batch goes: a new member of the newest file, or a new file.

        Files are created on the first non-empty batch, so no file is ever left empty (an empty
        file has no first line to tell its format by).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        now_ns = self._clock_ns()
        files = recording_files(self.directory, self.prefix)
        if files:
            newest = files[-1]
            if (
                _start_hour(newest) == now_ns // _HOUR_NS
                and newest.stat().st_size < self.rotate_bytes
                and _is_whole_gzip(newest)
            ):
                self._resume = newest

    def write(self, lines: Sequence[bytes]) -> None:
        """Append `lines` (each ending in a newline), then rotate if size or hour say so."""
        now_ns = self._clock_ns()
        if lines:
            if self._gz is None:
                self._start(now_ns)
            gz = self._gz
            assert gz is not None  # _start opened it
            gz.write(b"".join(lines))
            gz.flush()  # a sync flush: what is written survives a crash of the process
            self.lines_written += len(lines)
        raw = self._raw
        if raw is not None and (
            raw.tell() >= self.rotate_bytes or now_ns // _HOUR_NS != self._hour
        ):
            self._close_member()  # the next batch starts the next file

    def close(self) -> None:
        """Finish the gzip member (its trailer) and close the file."""
        self._close_member()

    def _start(self, now_ns: int) -> None:
        resume, self._resume = self._resume, None
        if resume is not None and _start_hour(resume) == now_ns // _HOUR_NS:
            self._start_member(resume, resume.open("ab"))
        else:
            self._start_file(now_ns)

    def _start_file(self, now_ns: int) -> None:
        start = dt.datetime.fromtimestamp(now_ns // 10**9, tz=dt.UTC)
        stamp = start.strftime("%Y%m%dT%H%M%SZ")
        seq = 0
        while True:
            suffix = f"_{seq:04d}" if seq else ""
            path = self.directory / f"{self.prefix}_{stamp}{suffix}{FILE_SUFFIX}"
            try:
                raw = path.open("xb")  # exclusive: an existing file is never overwritten
            except FileExistsError:
                seq += 1
                continue
            self._start_member(path, raw)
            return

    def _start_member(self, path: Path, raw: BinaryIO) -> None:
        self._raw = raw
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw)
        self.path = path
        self._hour = _start_hour(path)
        self.files.append(path)
        _log.info("recording to %s", path)

    def _close_member(self) -> None:
        gz, raw = self._gz, self._raw
        self._gz = self._raw = None
        if gz is not None:
            gz.close()
        if raw is not None:
            raw.close()


class FrameBuffer:
    """Notification frames waiting for the writer, as finished lines (filled by the hook)."""

    def __init__(self, max_pending_bytes: int = MAX_PENDING_BYTES) -> None:
        self._lines: list[bytes] = []
        self._max_pending_bytes = max_pending_bytes
        self.pending_bytes = 0
        self.frames = 0
        """Notification frames buffered so far."""
        self.dropped = 0
        """Frames dropped because the writer fell `max_pending_bytes` behind."""

    def add(self, frame: str | bytes, local_ns: int) -> None:
        """The session hook: keep a notification frame with its receive time."""
        data = frame.encode() if isinstance(frame, str) else frame
        if b'"channel_name"' not in data:
            return  # a reply or an error: not market data, and not in the reader's format
        if b"\n" in data or b"\r" in data:
            # Raw line breaks in JSON are whitespace (inside strings they are escaped).
            data = data.replace(b"\n", b" ").replace(b"\r", b" ")
        if self.pending_bytes > self._max_pending_bytes:
            if not self.dropped:
                _log.warning("the writer is %d bytes behind: dropping frames", self.pending_bytes)
            self.dropped += 1
            return
        line = b"%d %b\n" % (local_ns, data)
        self._lines.append(line)
        self.pending_bytes += len(line)
        self.frames += 1

    def take(self) -> list[bytes]:
        """The buffered lines, emptying the buffer."""
        lines, self._lines = self._lines, []
        self.pending_bytes = 0
        return lines

    def put_back(self, lines: list[bytes]) -> None:
        """Return lines `take` gave that were not written, ahead of those added since."""
        self._lines = lines + self._lines
        self.pending_bytes += sum(map(len, lines))


@frozen
class RecordingPlan:
    """What to record: instruments, book depth, the channels' delay, options near the money."""

    instruments: tuple[str, ...]
    book_levels: int | Literal["all"] = 10
    delay: Delay = Delay.MS100
    option_expiries: int = 0
    """Record option tickers of this many first expiries per underlying (0: none)."""
    option_strikes_each_side: int = 3


def near_the_money_options(
    instruments: Sequence[ThalexInstrument],
    underlying: str,
    index_price: float,
    expiries: int,
    strikes_each_side: int,
) -> list[str]:
    """Names of the options on `underlying` of the first `expiries` expiries whose strikes are
    among the `strikes_each_side` nearest below and above `index_price` (calls and puts)."""
    options = [
        i
        for i in instruments
        if i.instrument_type is InstrumentKind.OPTION
        and i.underlying == underlying
        and i.instrument_name is not None
        and i.expiration_timestamp is not None
        and i.strike_price is not None
    ]
    first = sorted({i.expiration_timestamp for i in options if i.expiration_timestamp})[:expiries]
    names: list[str] = []
    for expiry in first:
        chain = [i for i in options if i.expiration_timestamp == expiry]
        strikes = sorted({i.strike_price for i in chain if i.strike_price is not None})
        below = [s for s in strikes if s <= index_price][-strikes_each_side:]
        above = [s for s in strikes if s > index_price][:strikes_each_side]
        chosen = set(below + above)
        names += sorted(
            i.instrument_name for i in chain if i.strike_price in chosen and i.instrument_name
        )
    return names


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_retryable(e) for e in exc.exceptions)
    return isinstance(exc, _RETRYABLE)


async def _drain(events: trio.MemoryReceiveChannel[T]) -> None:
    # The frames are already recorded raw by the hook; the decoded copies only need to leave
    # the bounded stream so the session's reader never waits on it.
    async for _ in events:
        pass


class Recorder:
    """Records one exchange connection (reconnecting on transport faults) until cancelled."""

    def __init__(
        self,
        endpoint: Network | str,
        plan: RecordingPlan,
        writer: RecordingWriter,
        *,
        credentials: Credentials | None = None,
        connect: Callable[
            [str], AbstractAsyncContextManager[WebSocketConnection]
        ] = default_connector,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.plan = plan
        self.writer = writer
        self.buffer = FrameBuffer()
        self._credentials = credentials
        self._connect = connect
        self._wall_clock = wall_clock
        self.channels: list[str] = []
        """The channels the exchange took on the last connection."""
        self.connections = 0

    async def run(
        self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Record until cancelled; `started` with the subscribed channels once data flows.

        Raises RecordingError when an instrument is unknown, and anything not retryable.
        """
        await trio.to_thread.run_sync(self.writer.open)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._run_flusher)
                task_status.started(await nursery.start(self._run_connections))
        finally:
            # Synchronous on purpose: the tail is at most one flush interval of frames (the
            # flusher's thread call is not abandoned on cancel, so the writer is idle here),
            # and a plain call cannot be cut off half-way as an abandoned thread could.
            self.writer.write(self.buffer.take())
            self.writer.close()

    async def _run_flusher(self) -> None:
        while True:
            await trio.sleep(FLUSH_INTERVAL_S)
            await self.flush()

    async def flush(self) -> None:
        """Write the buffered frames. Compressing and writing a batch takes milliseconds to tens
        of ms: in a worker thread, so the websocket reader (and its pongs) never waits for disk.
        """
        lines = self.buffer.take()
        try:
            await trio.to_thread.run_sync(self.writer.write, lines)
        except trio.Cancelled:
            # Raised only before the thread began (a started write is waited for, never
            # abandoned): the lines go back, for the final write in `run`.
            self.buffer.put_back(lines)
            raise

    async def _run_connections(self, *, task_status: trio.TaskStatus[list[str]]) -> None:
        backoff_s = RETRY_INITIAL_S
        started = False
        while True:
            try:
                async with open_thalex_session(
                    self.endpoint,
                    self._credentials,
                    cancel_on_disconnect_s=None,  # no orders: keep the session persistent
                    subscribe=(),
                    connect=self._connect,
                    wall_clock=self._wall_clock,
                    on_frame=self.buffer.add,
                ) as session:
                    self.connections += 1
                    with trio.fail_after(SETUP_TIMEOUT_S):
                        wanted = await self._channels(session)
                        self.channels = await session.subscribe(wanted)
                    refused = sorted({c.name for c in wanted} - set(self.channels))
                    if refused:
                        _log.warning("the exchange refused %s", ", ".join(refused))
                    if not started:
                        started = True
                        task_status.started(list(self.channels))
                    backoff_s = RETRY_INITIAL_S
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(_drain, session.market_events)
                        nursery.start_soon(_drain, session.account_events)
            except trio.Cancelled:
                raise
            except BaseException as exc:  # a transport fault comes in (nested) groups
                if not _retryable(exc):
                    raise
                _log.warning("connection lost (%r); reconnecting in %.0f s", exc, backoff_s)
            await trio.sleep(backoff_s)
            backoff_s = min(2 * backoff_s, RETRY_MAX_S)

    async def _channels(self, session: ThalexSession) -> list[Channel]:
        plan = self.plan
        listed = await session.request(ThalexInstrumentsRequest())
        by_name = {i.instrument_name: i for i in listed if i.instrument_name is not None}
        unknown = [name for name in plan.instruments if name not in by_name]
        if unknown:
            raise RecordingError(f"instruments not listed by the exchange: {', '.join(unknown)}")
        channels: list[Channel] = []
        underlyings: list[str] = []
        for name in plan.instruments:
            channels.append(book_channel(name, nlevels=plan.book_levels, delay=plan.delay))
            channels.append(ticker_channel(name, plan.delay))
            underlying = by_name[name].underlying
            if underlying is not None and underlying not in underlyings:
                underlyings.append(underlying)
        for underlying in underlyings:
            channels.append(recent_trades_channel(underlying, "all"))
            channels.append(price_index_channel(underlying))
            if plan.option_expiries > 0:
                index = await session.request(ThalexIndexRequest(underlying))
                options = near_the_money_options(
                    listed, underlying, index.price, plan.option_expiries,
                    plan.option_strikes_each_side,
                )  # fmt: skip
                channels += [ticker_channel(name, plan.delay) for name in options]
        channels += [INSTRUMENTS, SYSTEM]
        return channels
