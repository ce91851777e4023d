"""Shared set-up for simulator tests: a server on virtual time, the test key, frame checks."""

from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import attrs
import orjson
import trio

from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.server.config import SimServerConfig, Synthetic
from thalex_trio.sim.server.server import open_sim_server
from thalex_trio.thalex.credentials import Credentials, Secret
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.session import open_thalex_session

from ..thalex import spec
from ..thalex.keys import private_pem, rsa_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable
    from contextlib import AbstractAsyncContextManager

    from trio_websocket import WebSocketConnection

    from thalex_trio.sim.server.faults import FaultPlan
    from thalex_trio.sim.server.server import SimServer
    from thalex_trio.thalex.session import ThalexSession

T = TypeVar("T")

KEY_ID = "K000000042"
URL = "ws://sim/ws/api/v2"
EPOCH_S = 1_720_000_000.0


_last_wall_s = [0.0]


def wall_clock() -> float:
    """Wall time that moves with the (virtual) Trio clock, and a little on every call, as a
    real clock does between two logins (the server refuses a repeated `iat`)."""
    now = max(EPOCH_S + trio.current_time(), _last_wall_s[0] + 1e-3)
    _last_wall_s[0] = now
    return now


def clock_before_expiry(
    lead_s: float, base: Callable[[], float] = wall_clock
) -> Callable[[], float]:
    """`base` moved so that it reads `lead_s` before the next 08:00 UTC (when the
    simulator's nearest listed option expiry is due) now, and runs on with `base` after."""
    now_s = base()
    now = dt.datetime.fromtimestamp(now_s, dt.UTC)
    expiry = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if expiry <= now:
        expiry += dt.timedelta(days=1)
    offset_s = expiry.timestamp() - lead_s - now_s
    return lambda: base() + offset_s


def credentials(key_id: str = KEY_ID) -> Credentials:
    """The test key."""
    return Credentials(key_id, Secret(private_pem()))


BUSY_MARKET = SyntheticParams(seed=7, arrival_a_per_s=20.0, options=None)
"""Many market orders, so resting quotes at the touch fill within a few seconds."""


@asynccontextmanager
async def open_test_server(
    faults: FaultPlan | None = None, **changes: object
) -> AsyncIterator[SimServer]:
    """An in-memory simulator with the test key registered and frame capture on."""
    config = SimServerConfig(listen=False, wall_clock=wall_clock, market=Synthetic(BUSY_MARKET))
    if faults is not None:
        config = attrs.evolve(config, faults=faults)
    config = attrs.evolve(config, **changes)  # type: ignore[arg-type]  # test-chosen fields
    async with open_sim_server(config, public_keys={KEY_ID: rsa_key().public_key()}) as server:
        server.core.frame_log = []
        yield server


def open_client(
    server: SimServer,
    subscribe: Iterable[str] = ("system",),
    *,
    cancel_on_disconnect_s: int | None = 6,
    clock: Callable[[], float] = wall_clock,
) -> AbstractAsyncContextManager[ThalexSession]:
    """The project's real client, connected in memory (`clock`: the server's wall clock)."""
    return open_thalex_session(
        URL,
        credentials(),
        cancel_on_disconnect_s=cancel_on_disconnect_s,
        subscribe=list(subscribe),
        connect=server.connect_memory,
        wall_clock=clock,
        strict=True,
    )


async def wait_for(
    events: trio.MemoryReceiveChannel[T],
    predicate: Callable[[ThalexNotification], bool],
    seen: list[ThalexNotification] | None = None,
) -> ThalexNotification:
    """The first notification matching `predicate` (the caller sets the deadline); these
    sessions convert no market data, so everything on the stream is a notification."""
    async for note in events:
        assert isinstance(note, ThalexNotification)
        if seen is not None:
            seen.append(note)
        if predicate(note):
            return note
    raise AssertionError("stream ended")


async def read_until_closed(ws: WebSocketConnection) -> None:
    """Read frames until the connection closes (raises ConnectionClosed)."""
    while True:
        await ws.get_message()


PATTERNS = {
    "book": "book.<instrument>.<grouping>.<nlevels>.<delay>",
    "ticker": "ticker.<instrument>.<delay>",
    "lwt": "lwt.<instrument>.<delay>",
    "recent_trades": "recent_trades.<target>.<category>",
    "price_index": "price_index.<underlying>",
}


def pattern_of(channel_name: str) -> str:
    """The spec's channel pattern of a concrete channel name."""
    head = channel_name.split(".", 1)[0]
    return PATTERNS.get(head, channel_name)


def spec_violations(server: SimServer) -> tuple[list[str], dict[str, int]]:
    """Every captured frame checked against openapi.json: (problems, frames per kind)."""
    assert server.core.frame_log is not None
    problems: list[str] = []
    kinds: dict[str, int] = {}
    for session_id, frame in server.core.frame_log:
        try:
            obj = orjson.loads(frame)
        except orjson.JSONDecodeError:
            kinds["malformed"] = kinds.get("malformed", 0) + 1
            continue
        if "channel_name" in obj:
            key = pattern_of(obj["channel_name"])
            errors = spec.errors(spec.payload_schema(key), obj)
        else:
            key = server.core.request_log.get((session_id, obj["id"]), "?")
            if key == "?":
                errors = [f"reply to unknown id {obj['id']!r}"]
            else:
                errors = spec.errors(spec.response_schema(key), obj)
        kinds[key] = kinds.get(key, 0) + 1
        problems += [f"{key}: {e} in {frame[:300]!r}" for e in errors]
    return problems, kinds
