"""Opening the store as a whole: pick the database, migrate it, run the writer.

`open_store()` is what the runtime uses: with no DSN (and no `THALEX_TRIO_DSN`) it starts the
embedded PostgreSQL for the duration of the block, so runs are recorded with no set-up.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import trio

from thalex_trio.store.db import journal_file_for, migrate
from thalex_trio.store.dsn import dsn_from_env, mask_dsn
from thalex_trio.store.embedded import EmbeddedPostgres, default_data_dir, open_embedded_postgres
from thalex_trio.store.writer import WriterConfig, open_store_writer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from contextlib import AbstractContextManager
    from pathlib import Path

    from thalex_trio.store.writer import StoreWriter

_log = logging.getLogger(__name__)

EMBEDDED_STOP_DEADLINE_S = 30.0
"""How long closing the embedded server may take before we leave it running."""


@asynccontextmanager
async def open_database(
    dsn: str | None = None, *, data_dir: Path | None = None
) -> AsyncIterator[str]:
    """Yield a DSN: `dsn`, else `THALEX_TRIO_DSN`, else the embedded server (started here and
    stopped on exit). Startup blocks in a worker thread; callers bound it with their deadline."""
    chosen = dsn or dsn_from_env()
    if chosen is not None:
        yield chosen
        return
    pgdata = (data_dir or default_data_dir()) / "pg"
    manager: AbstractContextManager[EmbeddedPostgres] = open_embedded_postgres(pgdata)
    server = await trio.to_thread.run_sync(manager.__enter__)
    try:
        yield server.dsn()
    finally:
        with trio.move_on_after(EMBEDDED_STOP_DEADLINE_S) as scope:
            scope.shield = True
            await trio.to_thread.run_sync(manager.__exit__, None, None, None)


@asynccontextmanager
async def open_store(
    dsn: str | None = None,
    *,
    data_dir: Path | None = None,
    config: WriterConfig | None = None,
) -> AsyncIterator[StoreWriter]:
    """The running store: database chosen as in `open_database`, migrated, writer started.

    `writer.sink` is the `EventSink` to hand to the runtime. The journal defaults to
    `<data dir>/journal/`, one file per database.
    """
    root = data_dir or default_data_dir()
    async with open_database(dsn, data_dir=root) as resolved:
        applied = await trio.to_thread.run_sync(migrate, resolved)
        _log.info("store at %s (migrations applied now: %s)", mask_dsn(resolved), applied or "none")
        if config is None:
            config = WriterConfig(journal_path=journal_file_for(resolved, root / "journal"))
        async with open_store_writer(resolved, config) as writer:
            yield writer
