"""Migrations: version 2 on a real PostgreSQL, and the TimescaleDB set-up they issue.

No TimescaleDB build can be had here (the embedded server ships no such extension, and no
package of the registries this project uses brings one), so its path is checked on a
recording stand-in for the connection: which statements, with which parameters, in which
order, on a fresh database and on one that already has compressed hypertables.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg import sql

from thalex_trio.store import migrations
from thalex_trio.store.migrations import (
    COMPRESS_AFTER_NS,
    DAY_NS,
    HYPERTABLES,
    MIGRATIONS,
    apply_migrations,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

TIME_SERIES = (
    "top_of_book",
    "tickers",
    "trades",
    "index_prices",
    "quote_decisions",
    "order_events",
    "fills",
    "rpc_errors",
    "position_snapshots",
    "risk_events",
)


def _indexes(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, str]]:
    """index name -> (table, access method) in the current schema."""
    rows = conn.execute(
        "SELECT i.relname, t.relname, am.amname FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = current_schema()"
    ).fetchall()
    return {str(name): (str(table), str(method)) for name, table, method in rows}


def test_time_series_tables_have_brin_time_indexes_and_no_btree_ones(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        indexes = _indexes(conn)
    for table in TIME_SERIES:
        assert indexes[f"{table}_run_time_brin"] == (table, "brin")
        assert f"{table}_run_time" not in indexes
    # The execution tables keep the unique (sink_id, seq) that makes replay exactly-once.
    assert sum(1 for _, method in indexes.values() if method == "btree") >= 10


def test_a_version_1_database_gets_only_the_later_versions_and_keeps_its_rows(
    empty_db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(empty_db_dsn) as conn:
        monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:1])
        assert apply_migrations(conn) == [1]
        conn.execute(
            "INSERT INTO risk_events (sink_id, seq, run_id, local_ns, limit_name, value,"
            " threshold, verdict) VALUES (1, 1, 'old-run', 5, 'lag', 1.0, 2.0, 'ok')"
        )
        conn.commit()
        monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
        assert apply_migrations(conn) == [2, 3]
        assert apply_migrations(conn) == []
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        assert versions == [(1,), (2,), (3,)]
        row = conn.execute("SELECT run_id, local_ns FROM risk_events WHERE run_id = 'old-run'")
        assert row.fetchall() == [("old-run", 5)]
        assert _indexes(conn)["risk_events_run_time_brin"] == ("risk_events", "brin")
        assert _indexes(conn)["fill_fees_run_time_brin"] == ("fill_fees", "brin")


def test_the_report_query_shape_uses_the_brin_index(db_dsn: str) -> None:
    with psycopg.connect(db_dsn) as conn:
        conn.execute(
            "INSERT INTO top_of_book (run_id, local_ns, exchange_ns, instrument)"
            " SELECT 'run-' || (g / 10000), g, g, 'X' FROM generate_series(1, 100000) g"
        )
        conn.execute("ANALYZE top_of_book")
        conn.execute("SET enable_seqscan = off")  # only to show the index can serve it
        plan = "\n".join(
            str(r[0])
            for r in conn.execute(
                "EXPLAIN SELECT local_ns FROM top_of_book WHERE run_id = 'run-3' ORDER BY local_ns"
            )
        )
    assert "top_of_book_run_time_brin" in plan


# -- TimescaleDB, on a recording stand-in ---------------------------------------------------


class _Result:
    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self._rows = rows

    def fetchone(self) -> tuple[object, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[object, ...]]:
        return self._rows

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        return iter(self._rows)


class RecordingConnection:
    """Answers the catalogue queries `apply_migrations` makes and records every statement."""

    def __init__(
        self,
        *,
        applied: tuple[int, ...] = (),
        timescale: bool = True,
        extension_error: bool = False,
        hypertables: tuple[tuple[str, bool], ...] = (),
    ) -> None:
        self.applied = applied
        self.timescale = timescale
        self.extension_error = extension_error
        self.hypertables = hypertables
        self.statements: list[tuple[str, tuple[object, ...]]] = []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def execute(self, query: object, params: tuple[object, ...] | None = None) -> _Result:
        if isinstance(query, bytes):
            text = query.decode()
        elif isinstance(query, sql.Composable):
            text = query.as_string()
        else:
            text = str(query)
        self.statements.append((text, tuple(params or ())))
        if text.startswith("SELECT version FROM schema_migrations"):
            return _Result([(v,) for v in self.applied])
        if "pg_available_extensions" in text:
            return _Result([(1,)] if self.timescale else [])
        if text.startswith("CREATE EXTENSION") and self.extension_error:
            raise psycopg.errors.FeatureNotSupported("timescaledb must be preloaded")
        if "timescaledb_information.hypertables" in text:
            return _Result(list(self.hypertables))
        return _Result([])

    def texts(self) -> list[str]:
        return [text for text, _ in self.statements]


def _apply(conn: RecordingConnection) -> list[int]:
    # type-ignore reason: a stand-in with the few methods apply_migrations uses
    return apply_migrations(conn)  # type: ignore[arg-type]


def _after(texts: list[str], prefix: str) -> list[str]:
    """The statements after the first one starting with `prefix`."""
    starts = [i for i, text in enumerate(texts) if text.startswith(prefix)]
    assert starts, prefix
    return texts[starts[0] + 1 :]


def test_a_fresh_timescale_database_gets_compressed_hypertables() -> None:
    conn = RecordingConnection()
    assert _apply(conn) == [m.version for m in MIGRATIONS]
    texts = conn.texts()
    assert sum(t.startswith("INSERT INTO schema_migrations") for t in texts) == len(MIGRATIONS)
    steps = _after(texts, "CREATE EXTENSION IF NOT EXISTS timescaledb")
    assert steps[0].startswith("SELECT hypertable_name, compression_enabled")
    assert steps[1].startswith("CREATE OR REPLACE FUNCTION thalex_now_ns() RETURNS bigint")
    by_table = conn.statements[len(texts) - len(steps) + 2 :]
    assert len(by_table) == 4 * len(HYPERTABLES)
    for i, table in enumerate(HYPERTABLES):
        create, now_func, compress, policy = by_table[4 * i : 4 * i + 4]
        assert create[0].startswith("SELECT create_hypertable(%s::regclass, 'local_ns',")
        assert "create_default_indexes => false" in create[0]
        assert "migrate_data => true" in create[0]
        assert create[1] == (table, DAY_NS)
        assert now_func[0].startswith("SELECT set_integer_now_func(%s::regclass, 'thalex_now_ns'")
        assert "replace_if_exists => true" in now_func[0]
        assert now_func[1] == (table,)
        assert compress == (
            f'ALTER TABLE "{table}" SET (timescaledb.compress, timescaledb.compress_segmentby'
            " = 'run_id', timescaledb.compress_orderby = 'local_ns')",
            (),
        )
        assert policy[0].startswith("SELECT add_compression_policy(%s::regclass, %s::bigint")
        assert policy[1] == (table, COMPRESS_AFTER_NS)


def test_compressed_hypertables_are_left_as_they_are_when_a_migration_lands() -> None:
    conn = RecordingConnection(applied=(1,), hypertables=tuple((t, True) for t in HYPERTABLES))
    assert _apply(conn) == [2, 3]
    texts = conn.texts()
    assert not [t for t in texts if "create_hypertable" in t or t.startswith("ALTER TABLE")]
    # The rest is idempotent by itself, so it is simply issued again.
    assert sum("set_integer_now_func" in t for t in texts) == len(HYPERTABLES)
    assert sum("add_compression_policy" in t for t in texts) == len(HYPERTABLES)


def test_a_half_converted_database_converts_only_what_is_missing() -> None:
    done, missing = HYPERTABLES[:2], HYPERTABLES[2:]
    conn = RecordingConnection(applied=(1,), hypertables=tuple((t, True) for t in done))
    _apply(conn)
    created = [p[0] for t, p in conn.statements if "create_hypertable" in t]
    altered = [t.split('"')[1] for t, _ in conn.statements if t.startswith("ALTER TABLE")]
    assert created == altered == list(missing)


@pytest.mark.parametrize(
    ("timescale", "extension_error"), [(False, False), (True, True)], ids=["absent", "refused"]
)
def test_without_a_usable_extension_the_tables_stay_plain(
    timescale: bool, extension_error: bool
) -> None:
    conn = RecordingConnection(timescale=timescale, extension_error=extension_error)
    assert _apply(conn) == [m.version for m in MIGRATIONS]
    texts = conn.texts()
    assert not [t for t in texts if "hypertable" in t or "thalex_now_ns" in t]
    assert any(t.startswith("CREATE EXTENSION") for t in texts) is timescale


def test_nothing_to_migrate_means_no_timescale_statements() -> None:
    conn = RecordingConnection(applied=tuple(m.version for m in MIGRATIONS))
    assert _apply(conn) == []
    assert not [t for t in conn.texts() if "timescaledb" in t or "hypertable" in t]
