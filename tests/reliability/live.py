"""The whole task tree against the in-memory simulator on virtual time, optionally recording into
the real store, for the breach and crash tests.

The runtime harness (`tests/runtime/harness.py`) provides the simulator, the key and the context;
this adds a quoter factory, the status line and signal handling (so every task of a real run is
in the tree), and a store writer whose shutdown flush waits for the database however long it
takes: on virtual time, a finite flush deadline would be jumped to while the worker thread is
still writing, and the rows would go to the journal instead of the tables under test.
"""

from __future__ import annotations

import math
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, LiteralString

import attrs
import psycopg
import trio

from thalex_trio.sim.engine.params import EngineParams, Fees
from thalex_trio.sim.server.config import (
    SIM_COLLAR_FRACTION,
    SIM_OPTION_CHAIN,
    SimServerConfig,
    Synthetic,
)
from thalex_trio.sim.server.server import open_sim_server
from thalex_trio.store.lifecycle import open_store
from thalex_trio.store.writer import WriterConfig

from ..runtime.harness import BUSY_MARKET, KEY_ID, wall_clock
from ..thalex.keys import rsa_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from thalex_trio.sim.market.params import SyntheticParams
    from thalex_trio.sim.server.server import SimServer
    from thalex_trio.store.writer import StoreWriter

INSTRUMENT = "BTC-PERPETUAL"


@asynccontextmanager
async def open_market_server(
    market: SyntheticParams = BUSY_MARKET, fees: Fees | None = None
) -> AsyncIterator[SimServer]:
    """The simulator in memory with the test key, on a synthetic market of our choosing (and
    fee rates, when given)."""
    engine = None
    if fees is not None:
        engine = EngineParams(seed=market.seed, collar_fraction=SIM_COLLAR_FRACTION, fees=fees)
    config = SimServerConfig(
        listen=False,
        wall_clock=wall_clock,
        market=Synthetic(market),
        seed=market.seed,
        engine=engine,
    )
    async with open_sim_server(config, public_keys={KEY_ID: rsa_key().public_key()}) as server:
        yield server


OPTIONS_MARKET = attrs.evolve(BUSY_MARKET, options=SIM_OPTION_CHAIN)
"""The busy market with the simulator's option chain listed (for the options pipeline)."""

QUOTING_POLL_S = 0.05
"""How often the simulator is asked whether our quotes rest yet."""


async def wait_until_quoting(server: SimServer) -> None:
    """Return once orders of ours rest at the simulator."""
    await trio.lowlevel.checkpoint()
    while not server.open_orders():  # noqa: ASYNC110  # polls simulator state, which has no event
        await trio.sleep(QUOTING_POLL_S)


@asynccontextmanager
async def open_test_store(dsn: str, data_dir: Path) -> AsyncIterator[StoreWriter]:
    """The real store (migrations, writer, journal) on `dsn`; the exit flush has no deadline."""
    config = WriterConfig(
        journal_path=data_dir / "journal" / "store.journal",
        fsync=False,
        shutdown_flush_deadline_s=math.inf,
    )
    async with open_store(dsn, data_dir=data_dir, config=config) as writer:
        yield writer


def query(dsn: str, statement: LiteralString, *params: object) -> list[tuple[object, ...]]:
    """Rows of one SELECT against the test database."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement, params).fetchall()


def count(dsn: str, statement: LiteralString, *params: object) -> int:
    """The single number a `SELECT count(...)` returns."""
    ((value,),) = query(dsn, statement, *params)
    assert isinstance(value, int)
    return value
