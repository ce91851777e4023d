"""A real PostgreSQL for every suite that needs one (store, reliability, backtest output):
`THALEX_TRIO_TEST_DSN`, else the embedded server started once per pytest session in a temporary
directory. Each test gets a fresh database. Registered as fixtures by tests/conftest.py, so one
server serves the whole session."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from attrs import frozen
from psycopg import conninfo, sql

from thalex_trio.store.db import migrate
from thalex_trio.store.embedded import EmbeddedPostgres, open_embedded_postgres

if TYPE_CHECKING:
    from collections.abc import Iterator


@frozen
class TestServer:
    """The server under test; `embedded` is None for an external `THALEX_TRIO_TEST_DSN`."""

    admin_dsn: str
    embedded: EmbeddedPostgres | None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TestServer]:
    external = os.environ.get("THALEX_TRIO_TEST_DSN", "").strip()
    if external:
        yield TestServer(external, None)
        return
    # Not under pytest's tmp_path: pytest prunes all but the newest three base temp dirs, and a
    # second pytest session on the machine would delete the data directory of a live server.
    with (
        tempfile.TemporaryDirectory(prefix="thalex-trio-test-pg-") as base,
        open_embedded_postgres(Path(base) / "pg") as server,
    ):
        yield TestServer(server.dsn(), server)


@pytest.fixture
def empty_db_dsn(pg_server: TestServer) -> Iterator[str]:
    """A fresh database with no schema; dropped afterwards."""
    if pg_server.embedded is not None:
        pg_server.embedded.start()  # a previous test may have stopped it
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield conninfo.make_conninfo(pg_server.admin_dsn, dbname=name)
    if pg_server.embedded is not None:
        pg_server.embedded.start()
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db_dsn(empty_db_dsn: str) -> str:
    """A fresh database with the schema applied; dropped afterwards."""
    migrate(empty_db_dsn)
    return empty_db_dsn
