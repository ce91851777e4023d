"""`open_sim_server`: the Thalex-protocol WebSocket server over the matching engine.

Task tree (one nursery, owned by the context manager):

    open_sim_server
     |- listener      TCP on host:port, one handler per socket in the connections nursery
     |- pump          market -> engine in (scaled) real time; publishes channels; status line
     |- faults        timed faults of the plan (drops, notices, restarts, bursts)
     |- connections   per socket: reader, writer, watchdog (see connection.py)

The handle (`SimServer`) gives tests and the soak harness the URL, the key id, an in-memory
connector (for virtual-time tests), fault triggers, and the account's state.
"""

from __future__ import annotations

import functools
import logging
import math
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    wrap_client_stream,
    wrap_server_stream,
)

from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.engine.requests import CancelAll
from thalex_trio.sim.server import keys
from thalex_trio.sim.server.auth import JwtVerifier, KeyRegistry
from thalex_trio.sim.server.channels_out import MarketPublisher
from thalex_trio.sim.server.clock import SimClock
from thalex_trio.sim.server.config import SIM_COLLAR_FRACTION, SimServerConfig, open_market
from thalex_trio.sim.server.connection import MALFORMED_FRAME, ActivityStream, Connection
from thalex_trio.sim.server.core import SimCore
from thalex_trio.sim.server.fault_schedule import run_fault_schedule
from thalex_trio.sim.server.injector import FaultInjector
from thalex_trio.sim.server.market_feed import MarketFeed
from thalex_trio.thalex.codec import ThalexCodec
from thalex_trio.thalex.wire_enums import SystemEventKind
from thalex_trio.thalex.wire_market import ThalexSystemEvent

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from thalex_trio.domain.position import Position
    from thalex_trio.sim.engine.reports import OrderReport
    from thalex_trio.sim.server.faults import FaultPlan

_log = logging.getLogger(__name__)

WS_PATH = "/ws/api/v2"
"""The endpoint path, as on the exchange."""

HANDSHAKE_TIMEOUT_S = 10.0
"""Deadline for a client's WebSocket handshake."""

CLOSE_TIMEOUT_S = 2.0
"""Deadline for closing one socket."""

PUMP_MAX_SLEEP_S = 0.1
"""The pump runs at least this often (throttled channels, status line)."""

PUMP_MIN_SLEEP_S = 0.001
"""Shortest pump sleep, so a burst of market events is applied in batches."""


class SimServer:
    """The running simulator: address, keys, fault triggers and account state."""

    def __init__(self, config: SimServerConfig, core: SimCore, registry: KeyRegistry) -> None:
        self.config = config
        self.core = core
        self.registry = registry
        self.url = ""
        """`ws://HOST:PORT/ws/api/v2` once listening (empty with `listen=False`)."""
        self.port = 0
        self.key_id: str | None = None
        """The development key's id (with `keys_dir`)."""
        self.private_key_path: Path | None = None
        self.connections: set[Connection] = set()
        self.restarts = 0
        self._accepting = True
        self._accepting_again = trio.Event()
        self._listener_scope: trio.CancelScope | None = None
        self._connections_nursery: trio.Nursery | None = None
        self._nursery: trio.Nursery | None = None
        self._last_status_s = trio.current_time()

    # -- keys and faults ---------------------------------------------------------------------

    def register_key(self, key_id: str, public_key: RSAPublicKey) -> None:
        """Accept logins with tokens signed by this key under `kid` = `key_id`."""
        self.registry.register(key_id, public_key, self.config.account_number)

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force."""
        return self.core.injector.plan

    def inject(self, plan: FaultPlan) -> None:
        """Add (or override per kind) faults from now on."""
        self.core.injector.plan = self.core.injector.plan | plan

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan from now on (`FaultPlan()` stops every fault)."""
        self.core.injector.plan = plan

    @property
    def injected(self) -> dict[str, int]:
        """How many faults of each kind happened."""
        return dict(self.core.injector.injected)

    def drop_connections(self) -> None:
        """Drop every socket without a close frame (their sessions end)."""
        for conn in list(self.connections):
            conn.close("dropped (fault injection)", abort=True)

    def drop_session(self, session_id: int) -> bool:
        """Drop the socket of one session without a close frame; False if it is gone."""
        for conn in list(self.connections):
            if conn.session_id == session_id:
                conn.close("dropped (fault injection)", abort=True)
                return True
        return False

    def blackhole_connections(self) -> None:
        """Cut every socket off both ways without closing it (a network partition); each
        session then ends when the silence watchdog closes it."""
        for conn in list(self.connections):
            conn.blackhole()

    def send_malformed(self) -> None:
        """Send every socket a frame that is not JSON."""
        for conn in list(self.connections):
            conn.send_unfaulted(MALFORMED_FRAME)

    def start_throttle_burst(self, count: int) -> None:
        """The next `count` matching-engine requests of every socket get code 4."""
        for conn in list(self.connections):
            conn.burst_left = count

    def send_reconnect_notice(self, grace_s: float) -> None:
        """`system` reconnect notice now; every socket is closed `grace_s` later."""
        frame = self.core.codec.encode_notification(
            "system", ThalexSystemEvent(SystemEventKind.RECONNECT)
        )
        doomed = list(self.connections)
        for conn in doomed:
            if "system" in conn.subscriptions:
                conn.send_unfaulted(frame)  # a notice is never dropped by faults
        assert self._nursery is not None
        self._nursery.start_soon(self._close_later, doomed, grace_s)

    async def _close_later(self, doomed: list[Connection], grace_s: float) -> None:
        await trio.sleep(grace_s)
        for conn in doomed:
            conn.close("server reconnect", code=1012)

    def start_restart(self, *, persist: bool, downtime_s: float = 1.0) -> None:
        """`restart` in the server's nursery (returns at once)."""
        assert self._nursery is not None
        self._nursery.start_soon(
            functools.partial(self.restart, persist=persist, downtime_s=downtime_s)
        )

    async def restart(self, *, persist: bool, downtime_s: float = 1.0) -> None:
        """Close every socket, refuse connections for `downtime_s`, then serve again.

        `persist=False` also deletes the account's persistent orders (the engine has no admin
        reason, so they report `client_bulk_cancel`); non-persistent ones die with their
        sessions either way.
        """
        self.restarts += 1
        _log.warning(
            "restart (%s orders), down %.1f s", "keeping" if persist else "wiping", downtime_s
        )
        self._accepting = False
        self._accepting_again = trio.Event()
        if self._listener_scope is not None:
            self._listener_scope.cancel()
        for conn in list(self.connections):
            conn.close("server restart", abort=True)
        if not persist:
            admin = self.core.engine.open_session()
            self.core.engine.submit(admin, CancelAll(), self.core.clock.now_ns())
            self.core.step()
        await trio.sleep(downtime_s)
        self._accepting = True
        self._accepting_again.set()

    # -- state -------------------------------------------------------------------------------

    def open_orders(self) -> list[OrderReport]:
        """Every open order of the account."""
        return self.core.engine.open_orders()

    def position(self, instrument_name: str | None = None) -> Position:
        """The account's position (in the served instrument by default)."""
        return self.core.engine.position(instrument_name or self.config.instrument)

    def stats(self) -> dict[str, float]:
        """Counters for tests and the soak harness."""
        publisher = self.core.publisher
        mid = publisher.mid(self.config.instrument)
        return {
            "connections": len(self.connections),
            "open_orders": len(self.core.engine.open_orders()),
            "fills": self.core.fills,
            "trades": len(publisher.tape),
            "restarts": self.restarts,
            "mid": math.nan if mid is None else mid,
            "engine_time_s": self.core.engine.now_ns / 1e9,
        }

    # -- connections -------------------------------------------------------------------------

    @asynccontextmanager
    async def connect_memory(self, url: str = "") -> AsyncIterator[WebSocketConnection]:
        """An in-memory client connection (a `connect` for `open_thalex_session`)."""
        del url
        if not self._accepting:
            raise OSError("connection refused: the simulator is restarting")
        assert self._connections_nursery is not None
        client_stream, server_stream = trio.testing.memory_stream_pair()
        self._connections_nursery.start_soon(self.serve_stream, server_stream)
        async with trio.open_nursery() as nursery:
            # trio-websocket types the stream as a socket, but any trio Stream works.
            stream = cast("trio.SocketStream", client_stream)
            ws = await wrap_client_stream(nursery, stream, "sim", WS_PATH)
            try:
                yield ws
            finally:
                with trio.move_on_after(CLOSE_TIMEOUT_S) as scope:
                    scope.shield = True
                    await ws.aclose()
                nursery.cancel_scope.cancel()

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        """Serve one client transport until it closes (never raises transport errors)."""
        activity = ActivityStream(stream)
        try:
            async with trio.open_nursery() as ws_nursery:
                await self._serve_ws(ws_nursery, activity)
                ws_nursery.cancel_scope.cancel()
        except* (
            ConnectionClosed,
            HandshakeError,
            trio.BrokenResourceError,
            trio.ClosedResourceError,
            OSError,
        ) as group:
            _log.debug("connection ended with %r", group.exceptions[0])
        finally:
            with trio.move_on_after(CLOSE_TIMEOUT_S) as scope:
                scope.shield = True
                await activity.aclose()

    async def _serve_ws(self, ws_nursery: trio.Nursery, activity: ActivityStream) -> None:
        ws: WebSocketConnection | None = None
        with trio.move_on_after(HANDSHAKE_TIMEOUT_S):
            request = await wrap_server_stream(ws_nursery, activity)
            if request.path.split("?")[0] != WS_PATH:
                await request.reject(404)
                return
            ws = await request.accept()
        if ws is None:
            return  # the handshake timed out
        core = self.core
        conn = Connection(core, ws, activity, core.engine.open_session())
        core.register(conn)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)
            core.detach(conn)
            with trio.move_on_after(CLOSE_TIMEOUT_S) as scope:
                scope.shield = True
                if conn.aborted:
                    await activity.aclose()
                else:
                    await ws.aclose(conn.close_code, conn.close_reason)

    async def run_listener(self, *, task_status: trio.TaskStatus[int]) -> None:
        """Accept TCP connections; during a restart stop listening, then listen again."""
        config = self.config
        listeners = await trio.open_tcp_listeners(config.port, host=config.host)
        port: int = listeners[0].socket.getsockname()[1]
        task_status.started(port)
        assert self._connections_nursery is not None
        while True:
            with trio.CancelScope() as scope:
                self._listener_scope = scope
                await trio.serve_listeners(
                    self.serve_stream, listeners, handler_nursery=self._connections_nursery
                )
            for listener in listeners:
                await listener.aclose()
            await self._accepting_again.wait()
            listeners = await trio.open_tcp_listeners(port, host=config.host)

    # -- the market pump ---------------------------------------------------------------------

    async def run_pump(self) -> None:
        """Advance the engine with the clock, publish channels, print the status line."""
        core = self.core
        while True:
            core.step()
            now = trio.current_time()
            core.publisher.publish(now)
            core.refresh_marks()
            if now - self._last_status_s >= self.config.status_interval_s:
                self._last_status_s = now
                _log.info("%s", self.status_line())
            wake = now + PUMP_MAX_SLEEP_S
            next_ns = core.engine.next_wakeup_ns()
            if next_ns is not None:
                wake = min(wake, max(core.clock.to_trio_s(next_ns), now + PUMP_MIN_SLEEP_S))
            await trio.sleep_until(wake)

    def status_line(self) -> str:
        """`mid=... spread=... trades=... our_orders=... position=... connections=...`."""
        core = self.core
        name = self.config.instrument
        top = core.engine.top_of_book(name)
        instrument = core.instruments[name]
        if top.bid is not None and top.ask is not None:
            mid = instrument.ticks_to_price(top.bid.price_ticks + top.ask.price_ticks) / 2
            spread = instrument.ticks_to_price(top.ask.price_ticks - top.bid.price_ticks)
            prices = f"mid={mid:.2f} spread={spread:g}"
        else:
            prices = "mid=- spread=-"
        trades, core.trades_since_status = core.trades_since_status, 0
        position = instrument.lots_to_amount(core.engine.position(name).size_lots)
        return (
            f"{prices} trades={trades} our_orders={len(core.engine.open_orders())} "
            f"fills={core.fills} position={position:g} connections={len(self.connections)}"
        )


@asynccontextmanager
async def open_sim_server(
    config: SimServerConfig | None = None,
    *,
    public_keys: dict[str, RSAPublicKey] | None = None,
) -> AsyncIterator[SimServer]:
    """Run the simulator for the duration of the block and yield its handle.

    `config` None means `SimServerConfig()` (synthetic market on 127.0.0.1, a free port).
    `public_keys` registers extra API keys (key id -> public key) besides the development key
    of `config.keys_dir`. With `config.listen` the handle's `url` is the bound address.
    """
    config = config or SimServerConfig()
    market = open_market(config)
    instrument = market.instrument
    engine_params = config.engine or EngineParams(
        seed=config.seed, collar_fraction=SIM_COLLAR_FRACTION
    )
    engine = MatchingEngine([instrument], engine_params)
    feed = MarketFeed(engine, instrument.name, market.chunks)
    origin_ns = market.start_ns if market.start_ns is not None else feed.first_time_ns()
    if origin_ns is None:
        raise ValueError(f"the market {config.market} has no events")
    clock = SimClock(origin_ns, config.speed)
    registry = KeyRegistry()
    codec = ThalexCodec()
    publisher = MarketPublisher(engine, codec, {instrument.name: instrument}, market.options)
    injector = FaultInjector(config.faults, config.seed)
    core = SimCore(
        engine,
        clock,
        {instrument.name: feed},
        publisher,
        JwtVerifier(registry, config.wall_clock),
        injector,
        config.account_number,
    )
    server = SimServer(config, core, registry)
    if config.keys_dir is not None:
        dev = await trio.to_thread.run_sync(keys.ensure_dev_key, config.keys_dir)
        server.key_id, server.private_key_path = dev.key_id, dev.private_key_path
        for key in await trio.to_thread.run_sync(keys.load_dev_keys, config.keys_dir):
            server.register_key(key.key_id, key.public_key)
    for key_id, public_key in (public_keys or {}).items():
        server.register_key(key_id, public_key)
    async with trio.open_nursery() as nursery, trio.open_nursery() as connections:
        server._nursery = nursery
        server._connections_nursery = connections
        core.step()
        if config.listen:
            server.port = await nursery.start(server.run_listener)
            host = config.host if ":" not in config.host else f"[{config.host}]"
            server.url = f"ws://{host}:{server.port}{WS_PATH}"
        nursery.start_soon(server.run_pump)
        nursery.start_soon(run_fault_schedule, server)
        yield server
        nursery.cancel_scope.cancel()
        connections.cancel_scope.cancel()
