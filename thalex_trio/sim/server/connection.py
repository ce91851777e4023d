"""One WebSocket connection: its session, subscriptions, rate limits and outbound queue.

Three tasks per socket under one nursery: the reader (requests in, handled synchronously, so
replies queue in request order), the writer (the outbound queue to the socket, where the
`latency` fault sends every frame a fixed time after it was queued, the `delay` fault holds
frames and the `reorder` fault lets a frame overtake a reply) and the
watchdog (silence longer than `timeout_secs` after `set_cancel_on_disconnect`, or
`IDLE_CLOSE_S` otherwise, ends the connection; any bytes received count as activity, so
WebSocket pings keep it alive). The `blackhole` fault stops the transport both ways, as a
network partition would, and leaves the ending to that watchdog.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import orjson
import trio
from trio_websocket import ConnectionClosed

from thalex_trio.sim.server import methods
from thalex_trio.thalex.codec import DecodeFailure, WireDecodeError
from thalex_trio.thalex.ratelimit import (
    CANCEL_RATE_PER_S,
    ENGINE_RATE_PER_S,
    Lane,
    TokenBucket,
    lane_of,
)

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

    from thalex_trio.sim.engine.reports import SessionId
    from thalex_trio.sim.server.core import SimCore
    from thalex_trio.thalex.frames import RequestId

_log = logging.getLogger(__name__)

OUTBOUND_FRAMES = 10_000
"""Frames queued for one socket; a client that falls this far behind is disconnected."""

RATE_PENALTY_S = 1.0
"""After a throttle (code 4) every request of the connection fails for this long."""

IDLE_CLOSE_S = 120.0
"""A connection that sends nothing (not even a ping) for this long is closed."""

WATCHDOG_TICK_S = 0.5
"""How often the watchdog re-reads the silence limit (it changes with cancel-on-disconnect)."""

REORDER_HOLD_S = 0.25
"""Longest the `reorder` fault holds a reply while no other frame comes to overtake it."""

THROTTLED = 4
NOT_LOGGED_IN = 7
INVALID_REQUEST = 6
UNKNOWN_METHOD = 31

_Outbound = tuple[bytes, bool, float]
"""A queued frame: its bytes, whether it is an RPC reply, and the Trio time it was queued."""

MALFORMED_FRAME = b'{"channel_name": "ticker.BTC-PERPETUAL.100ms", "notif'
"""What the `malformed` fault sends: a truncated frame that is not JSON."""


class ActivityStream(trio.abc.Stream):
    """A transport stream that remembers when it last received bytes."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self.last_receive_s = trio.current_time()
        self.partitioned = False
        """Set by `partition`: nothing moves either way any more (the `blackhole` fault)."""

    def partition(self) -> None:
        """Stop carrying bytes both ways, for good: sends and receives wait until cancelled.

        Bytes already in the transport stay there unread, so the peers see exactly what a
        network partition shows them: silence.
        """
        self.partitioned = True

    def is_partitioned(self) -> bool:
        """True once `partition` was called."""
        return self.partitioned

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Forward (or wait forever once partitioned)."""
        if self.is_partitioned():
            await trio.sleep_forever()
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """Forward."""
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Forward, and note the time (or wait forever once partitioned)."""
        if self.is_partitioned():
            await trio.sleep_forever()
        data = await self._stream.receive_some(max_bytes)
        if self.is_partitioned():
            await trio.sleep_forever()  # bytes that arrived after the partition are lost
        self.last_receive_s = trio.current_time()
        return data

    async def aclose(self) -> None:
        """Close the transport (abruptly, when the WebSocket did not close first)."""
        await self._stream.aclose()


class Connection:
    """The server side of one client connection (see the module docstring)."""

    def __init__(
        self,
        core: SimCore,
        ws: WebSocketConnection,
        stream: ActivityStream,
        session_id: SessionId,
    ) -> None:
        self.core = core
        self.session_id = session_id
        self.subscriptions: set[str] = set()
        self.account: str | None = None
        self.key_id: str | None = None
        self.timeout_s: float | None = None
        self.burst_left = 0
        """Matching-engine requests still to throttle (the `throttle=burst` fault)."""
        self.close_code = 1000
        self.close_reason: str | None = None
        self.aborted = False
        self.frames_sent = 0
        self._ws = ws
        self._stream = stream
        now = trio.current_time()
        self._engine_bucket = TokenBucket(ENGINE_RATE_PER_S, now)
        self._cancel_bucket = TokenBucket(CANCEL_RATE_PER_S, now)
        self._penalty_until_s = -math.inf
        # Each frame with whether it is an RPC reply (only replies are reordered) and the Trio
        # time it was queued (the `latency` fault counts from it).
        self._send, self._receive = trio.open_memory_channel[_Outbound](OUTBOUND_FRAMES)
        self._scope = trio.CancelScope()

    @property
    def logged_in(self) -> bool:
        """True after a successful `public/login`."""
        return self.account is not None

    def set_engine_rate(self, rate_per_s: int) -> None:
        """Cancel-on-disconnect raises the matching-engine rate."""
        self._engine_bucket.set_rate(rate_per_s, trio.current_time())

    @property
    def last_receive_s(self) -> float:
        """Trio time the client's last bytes arrived (the silence watchdog counts from it)."""
        return self._stream.last_receive_s

    @property
    def partitioned(self) -> bool:
        """True once the `blackhole` fault cut this socket off."""
        return self._stream.partitioned

    def blackhole(self) -> None:
        """Cut the socket off both ways without closing it (see `ActivityStream.partition`)."""
        if not self._stream.partitioned:
            _log.info("session %d: partitioned (fault injection)", self.session_id)
        self._stream.partition()

    # -- outbound ----------------------------------------------------------------------------

    def send_frame(self, frame: bytes) -> None:
        """Queue an RPC reply (faults never drop replies)."""
        self._queue(frame, reply=True)

    def send_unfaulted(self, frame: bytes) -> None:
        """Queue a frame of the server's own (a notice, a fault's malformed frame) that no
        fault drops, reorders or corrupts."""
        self._queue(frame, reply=False)

    def send_notification(self, frame: bytes, *, private: bool = False) -> None:
        """Queue a notification (of a private channel or a public one), unless the
        `drop_notification` fault eats it."""
        injector = self.core.injector
        plan = injector.plan
        if injector.drops_notification(private=private):
            return
        if injector.chance("malformed", plan.malformed):
            self._queue(MALFORMED_FRAME, reply=False)
        self._queue(frame, reply=False)

    def _queue(self, frame: bytes, *, reply: bool) -> None:
        try:
            self._send.send_nowait((frame, reply, trio.current_time()))
        except trio.WouldBlock:
            self.close("outbound queue full (client too slow)", abort=True)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # closing

    def close(self, reason: str, *, abort: bool = False, code: int = 1000) -> None:
        """End the connection: `abort` drops the socket without a close frame."""
        if self.close_reason is None:
            self.close_reason = reason
            self.close_code = code
            self.aborted = abort
            _log.info("session %d: closing (%s)", self.session_id, reason)
        self._scope.cancel()

    # -- tasks -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until the client leaves or `close` is called."""
        with self._scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._run_writer)
                nursery.start_soon(self._run_watchdog)
                await self._run_reader()
                nursery.cancel_scope.cancel()
        if self.close_reason is None:
            self.close_reason = "client closed"

    async def _run_reader(self) -> None:
        await trio.lowlevel.checkpoint()
        try:
            while True:
                self._on_message(await self._ws.get_message())
        except ConnectionClosed:
            return

    async def _run_writer(self) -> None:
        await trio.lowlevel.checkpoint()
        injector = self.core.injector
        held: bytes | None = None  # a reply the `reorder` fault holds back
        try:
            async with self._receive:
                while True:
                    queued: _Outbound | None = None
                    if held is None:
                        queued = await self._receive.receive()
                    else:
                        with trio.move_on_after(REORDER_HOLD_S):
                            queued = await self._receive.receive()
                    if queued is None:  # nothing came to overtake the held reply
                        assert held is not None
                        await self._write(held)
                        held = None
                        continue
                    frame, reply, queued_s = queued
                    latency = injector.plan.latency
                    if latency is not None:
                        await trio.sleep_until(queued_s + latency.latency_s)
                    delay = injector.plan.delay
                    if delay is not None and injector.flip("delay", delay.p):
                        await trio.sleep(delay.delay_s)
                    if held is None and reply and injector.chance("reorder", injector.plan.reorder):
                        held = frame
                        continue
                    await self._write(frame)
                    if held is not None:
                        await self._write(held)
                        held = None
        except trio.EndOfChannel:
            return
        except ConnectionClosed:
            self.close("connection lost")

    async def _write(self, frame: bytes) -> None:
        if self.close_reason is not None:
            # Closing (a drop fault, say): what is still queued never reaches the client.
            await trio.sleep_forever()
        await self._ws.send_message(frame.decode())
        self.frames_sent += 1
        if self.core.frame_log is not None:
            self.core.frame_log.append((self.session_id, frame))

    async def _run_watchdog(self) -> None:
        await trio.lowlevel.checkpoint()
        while True:
            limit_s = IDLE_CLOSE_S if self.timeout_s is None else self.timeout_s
            deadline_s = self._stream.last_receive_s + limit_s
            now = trio.current_time()
            if now >= deadline_s:
                self.close(f"silent for {limit_s:g} s", abort=True)
                return
            await trio.sleep_until(min(deadline_s, now + WATCHDOG_TICK_S))

    # -- requests ----------------------------------------------------------------------------

    def _on_message(self, message: str | bytes) -> None:
        codec = self.core.codec
        try:
            frame = codec.decode_request(message)
        except WireDecodeError as exc:
            code = UNKNOWN_METHOD if exc.kind is DecodeFailure.UNKNOWN_METHOD else INVALID_REQUEST
            self.send_frame(codec.encode_error(_salvage_id(message), code, exc.detail))
            return
        wire_id, request = frame.id, frame.request
        if self.core.frame_log is not None:
            self.core.request_log[self.session_id, wire_id] = request.method
        refusal = self._admit(request.method)
        if refusal is not None:
            self.send_frame(codec.encode_error(wire_id, *refusal))
            return
        methods.handle(self, wire_id, request)

    def _admit(self, method: str) -> tuple[int, str] | None:
        """Rate limits and login; the error to send instead of handling, if any."""
        now = trio.current_time()
        if now < self._penalty_until_s:
            return THROTTLED, "throttled: too many requests, try again later"
        lane = lane_of(method)
        injector = self.core.injector
        if lane is Lane.ENGINE:
            if self.burst_left > 0:
                self.burst_left -= 1
                injector.injected["throttle"] += 1
                return THROTTLED, "throttled (fault injection)"
            if injector.chance("throttle", injector.plan.throttle):
                return THROTTLED, "throttled (fault injection)"
        if lane is not Lane.UNLIMITED:
            bucket = self._engine_bucket if lane is Lane.ENGINE else self._cancel_bucket
            if bucket.try_take(now) > 0:
                self._penalty_until_s = now + RATE_PENALTY_S
                return THROTTLED, f"throttled: over {bucket.rate_per_s:g} {lane.value} messages/s"
        if method.startswith("private/") and not self.logged_in:
            return NOT_LOGGED_IN, "not logged in"
        return None


def _salvage_id(message: str | bytes) -> RequestId:
    """The request's id from a frame that did not decode, if it has a usable one."""
    try:
        obj = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict):
        value = obj.get("id")
        if type(value) in (int, str):
            return value
    return None
