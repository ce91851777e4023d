"""A backtest written to the store as it runs, through the store's public API (`open_store`,
`EventSink`), like a live run.

The backtest is synchronous and CPU-bound, so it runs in a worker thread while the store's
writer runs in Trio. After each chunk of data the events recorded so far (`RunEvents`) are
handed to the sink and written before the replay goes on: the backtest outruns any database,
and waiting keeps the sink's market rows (book samples, decisions) from being sampled away.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from thalex_trio.backtest.runner import instrument_of, run_backtest
from thalex_trio.backtest.store_events import RunEvents
from thalex_trio.domain.events import RunId

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from thalex_trio.backtest.driver import BacktestResult
    from thalex_trio.backtest.settings import BacktestConfig
    from thalex_trio.domain.events import StoreEvent
    from thalex_trio.store.writer import StoreWriter

_log = logging.getLogger(__name__)

STORE_START_DEADLINE_S = 60.0
"""How long the store may take to start (the embedded server's first start runs initdb)."""


def store_wanted(config: BacktestConfig) -> bool:
    """True when the run should be stored: `backtest.store` with persistence enabled."""
    return config.backtest.store and config.app.persistence.enabled


async def run_stored(
    config: BacktestConfig,
    paths: Sequence[Path],
    *,
    dsn: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[BacktestResult, dict[str, object], RunId | None]:
    """Run the backtest and store it (database as `open_store` picks it: `dsn`, else
    `THALEX_TRIO_DSN`, else the embedded server under `persistence.data_dir`).

    Returns the result, the summary document and the stored run's id; the id is None when
    the store could not be opened (the backtest still runs, unrecorded, as a live run would).
    """
    from thalex_trio.store.lifecycle import open_store

    persistence = config.app.persistence
    data_dir = None if persistence.data_dir is None else Path(persistence.data_dir)
    stored: tuple[BacktestResult, dict[str, object], RunId] | None = None
    # The deadline's scope encloses the store's whole life (the store opens scopes of its own
    # that must be exited inside the scopes they were entered in); lifted once it is open.
    with trio.CancelScope(deadline=trio.current_time() + STORE_START_DEADLINE_S) as startup:
        async with contextlib.AsyncExitStack() as stack:
            try:
                writer = await stack.enter_async_context(open_store(dsn, data_dir=data_dir))
            except Exception as exc:  # any failure to start the store: the run goes on unstored
                _log.warning("the backtest is not stored: the store did not start (%s)", exc)
            else:
                startup.deadline = math.inf
                stored = await _replay_into(writer, config, paths, progress)
    if stored is not None:
        return stored
    if startup.cancelled_caught:
        _log.warning(
            "the backtest is not stored: the store did not start within %g s",
            STORE_START_DEADLINE_S,
        )
    result, doc = await trio.to_thread.run_sync(
        functools.partial(run_backtest, config, paths, progress=progress)
    )
    return result, doc, None


async def _replay_into(
    writer: StoreWriter,
    config: BacktestConfig,
    paths: Sequence[Path],
    progress: Callable[[int, int], None] | None,
) -> tuple[BacktestResult, dict[str, object], RunId]:
    run_id = RunId(str(uuid.uuid4()))
    record = RunEvents(
        run_id,
        instrument_of(config),
        config.app.snapshot_json(),
        " ".join(p.name for p in paths),
    )

    def on_chunk(events: int, local_ns: int) -> None:
        if progress is not None:
            progress(events, local_ns)
        trio.from_thread.run(_hand_over, writer, record.take())

    result, doc = await trio.to_thread.run_sync(
        functools.partial(run_backtest, config, paths, progress=on_chunk, record=record)
    )
    await _hand_over(writer, record.take())
    return result, doc, run_id


async def _hand_over(writer: StoreWriter, events: list[StoreEvent]) -> None:
    """Emit `events` and write them before returning (back pressure on the replay)."""
    sink = writer.sink
    for event in events:
        sink.emit(event)
    await writer.flush()
