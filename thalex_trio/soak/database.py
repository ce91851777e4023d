"""The bot's PostgreSQL during a soak: a fresh database, a role with a password, an outage.

By default an embedded server of our own (`thalex_trio.store.embedded`) in a temporary data
directory; with `THALEX_TRIO_TEST_DSN` an existing server the DSN administers. Either way the
bot connects as a role of its own with a random password (required by `scram-sha-256` on the
embedded server), so the soak can grep everything the run produced for that password.

The outage stops the embedded server (fast shutdown: the bot's connection dies) and starts it
again; on an external server, which we may not stop, the database refuses connections and its
sessions are terminated instead. Everything here blocks: call it from a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from typing import TYPE_CHECKING

import psycopg
from attrs import frozen
from psycopg import conninfo, sql

from thalex_trio.store.embedded import open_embedded_postgres

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from thalex_trio.store.embedded import EmbeddedPostgres

_log = logging.getLogger(__name__)

TEST_DSN_ENV = "THALEX_TRIO_TEST_DSN"
"""An existing PostgreSQL to use instead of the embedded one (as the store tests do)."""


class SoakDatabase:
    """The soak's database: `dsn` for the bot (with its password), `admin_dsn` for the
    harness, and the outage switch."""

    def __init__(
        self,
        admin_dsn: str,
        database: str,
        role: str,
        password: str,
        embedded: EmbeddedPostgres | None,
    ) -> None:
        self.admin_dsn = admin_dsn
        self.database = database
        self.role = role
        self.password = password
        self.embedded = embedded
        self.outages = 0

    @property
    def dsn(self) -> str:
        """The bot's DSN (carries the password: never log it)."""
        return conninfo.make_conninfo(
            self.admin_dsn, user=self.role, password=self.password, dbname=self.database
        )

    @property
    def store_dsn(self) -> str:
        """The harness's own DSN on the soak database (the administrator's role)."""
        return conninfo.make_conninfo(self.admin_dsn, dbname=self.database)

    def stop(self) -> None:
        """Begin an outage: the bot can no longer reach its database."""
        self.outages += 1
        if self.embedded is not None:
            self.embedded.stop()
            return
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            name = sql.Identifier(self.database)
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (self.database,),
            )

    def start(self) -> None:
        """End an outage."""
        if self.embedded is not None:
            self.embedded.start()
            return
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            name = sql.Identifier(self.database)
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))


@contextlib.contextmanager
def open_soak_database(work_dir: Path) -> Iterator[SoakDatabase]:
    """A database and a password-protected role for one soak; dropped (external server) or
    stopped with its data directory under `work_dir` (embedded) on exit."""
    external = os.environ.get(TEST_DSN_ENV, "").strip()
    suffix = secrets.token_hex(4)
    role, database = f"soak_bot_{suffix}", f"soak_{suffix}"
    password = secrets.token_urlsafe(24)
    with contextlib.ExitStack() as stack:
        embedded: EmbeddedPostgres | None = None
        if external:
            admin_dsn = external
        else:
            embedded = stack.enter_context(open_embedded_postgres(work_dir / "pg"))
            admin_dsn = embedded.dsn()
            _require_password(embedded.pgdata, role, admin_dsn)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )
        db = SoakDatabase(admin_dsn, database, role, password, embedded)
        try:
            yield db
        finally:
            if embedded is None:
                db.start()
                _drop(admin_dsn, database, role)


def _require_password(pgdata: Path, role: str, admin_dsn: str) -> None:
    """Make the embedded server (trust for everyone) ask `role` for its password."""
    hba = pgdata / "pg_hba.conf"
    rule = f"local all {role} scram-sha-256\nhost all {role} 127.0.0.1/32 scram-sha-256\n"
    hba.write_text(rule + hba.read_text())
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


def _drop(admin_dsn: str, database: str, role: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


# -- reading the run back ----------------------------------------------------------------------


@frozen
class StoredRun:
    """What the store holds of the soak's run."""

    run_id: str | None
    run_ids: tuple[str, ...]
    fills: tuple[tuple[str, int], ...]
    """(trade id, signed lots) of every stored fill, duplicates kept."""
    order_events: tuple[tuple[int, int, str], ...]
    """(local ns, client order id, state) of every order event, in time order."""
    rows: int
    """Rows of the run read for the secrets check."""


def read_run(dsn: str, scan: Callable[[str], None]) -> StoredRun:
    """The run's fills and order events; every row of the run goes through `scan` as text."""
    with psycopg.connect(dsn) as conn:
        run_ids = tuple(
            str(r[0]) for r in conn.execute("SELECT run_id FROM runs ORDER BY local_ns")
        )
        run_id = run_ids[-1] if run_ids else None
        fills = tuple(
            (str(trade_id), int(lots) if side == "buy" else -int(lots))
            for trade_id, side, lots in conn.execute(
                "SELECT trade_id, side, amount_lots FROM fills WHERE run_id = %s", (run_id,)
            )
        )
        events = tuple(
            (int(t), int(cid), str(state))
            for t, cid, state in conn.execute(
                "SELECT local_ns, client_order_id, state FROM order_events WHERE run_id = %s "
                "ORDER BY local_ns, seq",
                (run_id,),
            )
        )
        rows = 0
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE column_name = 'run_id' AND table_schema = current_schema() "
                "ORDER BY table_name"
            )
        ]
        for table in tables:
            query = sql.SQL("SELECT t::text FROM {} AS t WHERE t.run_id = %s").format(
                sql.Identifier(table)
            )
            for (text,) in conn.execute(query, (run_id,)):
                scan(str(text))
                rows += 1
    return StoredRun(run_id, run_ids, fills, events, rows)
