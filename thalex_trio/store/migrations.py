"""Versioned schema migrations, applied on start under an advisory lock.

Each migration runs once, in its own transaction, and is recorded in `schema_migrations`, so
applying them again is a no-op and two processes starting together do not race. Times are
integer ns since the epoch (`local_ns` is ours, `exchange_ns` the exchange's). Execution tables
carry `(sink_id, seq)`, unique, which makes journal replay exactly-once.

Time-series tables are found by run through BRIN indexes on `(run_id, local_ns)` (version 2):
rows arrive in time order and a run's rows sit together, so a block-range summary finds them
at a fraction of a btree's cost per insert (a btree there doubled the server's time per row).

When the `timescaledb` extension is available the market tables also become hypertables on
`local_ns`, with compression of older chunks; on plain PostgreSQL they stay plain tables.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import psycopg
from attrs import frozen
from psycopg import sql

if TYPE_CHECKING:
    from psycopg.rows import TupleRow

_log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x7468_616C_6578  # "thalex": one lock for every thalex_trio schema change

DAY_NS = 86_400 * 10**9


@frozen
class Migration:
    """One schema step: applied once, in order, recorded by `version`."""

    version: int
    name: str
    sql: str


_V1 = """
CREATE TABLE runs (
    run_id text PRIMARY KEY,
    local_ns bigint NOT NULL,
    mode text NOT NULL,
    version text NOT NULL,
    network text NOT NULL,
    config jsonb NOT NULL,
    sink_id bigint NOT NULL,
    seq bigint NOT NULL
);
CREATE TABLE run_stops (
    run_id text PRIMARY KEY,
    local_ns bigint NOT NULL,
    exit_reason text NOT NULL,
    exit_code integer NOT NULL,
    sink_id bigint NOT NULL,
    seq bigint NOT NULL
);
CREATE TABLE instruments (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    instrument text NOT NULL,
    tick_size double precision NOT NULL,
    volume_tick_size double precision NOT NULL,
    UNIQUE (sink_id, seq)
);
CREATE TABLE top_of_book (
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    exchange_ns bigint NOT NULL,
    instrument text NOT NULL,
    bid_ticks bigint,
    bid_lots bigint,
    ask_ticks bigint,
    ask_lots bigint
);
CREATE TABLE tickers (
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    exchange_ns bigint NOT NULL,
    instrument text NOT NULL,
    mark_price double precision NOT NULL,
    index_price double precision NOT NULL,
    best_bid_price double precision,
    best_bid_amount double precision,
    best_ask_price double precision,
    best_ask_amount double precision,
    last_price double precision,
    funding_rate double precision,
    funding_mark double precision,
    iv double precision,
    delta double precision,
    forward double precision
);
CREATE TABLE trades (
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    exchange_ns bigint NOT NULL,
    instrument text NOT NULL,
    price_ticks bigint NOT NULL,
    amount_lots bigint NOT NULL,
    aggressor text NOT NULL
);
CREATE TABLE index_prices (
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    exchange_ns bigint NOT NULL,
    index_name text NOT NULL,
    price double precision NOT NULL
);
CREATE TABLE quote_decisions (
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    exchange_ns bigint,
    instrument text NOT NULL,
    fair_ticks double precision NOT NULL,
    reservation_ticks double precision NOT NULL,
    sigma double precision,
    regime text,
    bids jsonb NOT NULL,
    asks jsonb NOT NULL
);
CREATE TABLE order_events (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    exchange_ns bigint,
    instrument text NOT NULL,
    client_order_id bigint NOT NULL,
    exchange_order_id text,
    side text NOT NULL,
    state text NOT NULL,
    status text,
    change_reason text,
    delete_reason text,
    price_ticks bigint NOT NULL,
    amount_lots bigint NOT NULL,
    filled_lots bigint NOT NULL,
    reject_code integer,
    UNIQUE (sink_id, seq)
);
CREATE TABLE fills (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    exchange_ns bigint NOT NULL,
    instrument text NOT NULL,
    trade_id text NOT NULL,
    client_order_id bigint,
    exchange_order_id text,
    side text NOT NULL,
    price_ticks bigint NOT NULL,
    amount_lots bigint NOT NULL,
    liquidity text NOT NULL,
    fee double precision NOT NULL,
    fair_ticks double precision,
    level integer,
    UNIQUE (sink_id, seq)
);
CREATE TABLE rpc_errors (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    method text NOT NULL,
    code integer NOT NULL,
    message text NOT NULL,
    request_id bigint,
    UNIQUE (sink_id, seq)
);
CREATE TABLE position_snapshots (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    instrument text NOT NULL,
    size_lots bigint NOT NULL,
    avg_entry_ticks double precision NOT NULL,
    realised double precision NOT NULL,
    unrealised double precision NOT NULL,
    fees double precision NOT NULL,
    funding double precision NOT NULL,
    mark_price double precision NOT NULL,
    UNIQUE (sink_id, seq)
);
CREATE TABLE risk_events (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    limit_name text NOT NULL,
    value double precision NOT NULL,
    threshold double precision NOT NULL,
    verdict text NOT NULL,
    UNIQUE (sink_id, seq)
);
CREATE TABLE trading_state_changes (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    previous text NOT NULL,
    current text NOT NULL,
    reason text NOT NULL,
    UNIQUE (sink_id, seq)
);
CREATE TABLE calibrations (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    instrument text NOT NULL,
    model text NOT NULL,
    params jsonb NOT NULL,
    goodness_of_fit jsonb NOT NULL,
    sample_count integer NOT NULL,
    UNIQUE (sink_id, seq)
);
CREATE INDEX top_of_book_run_time ON top_of_book (run_id, local_ns);
CREATE INDEX tickers_run_time ON tickers (run_id, local_ns);
CREATE INDEX trades_run_time ON trades (run_id, local_ns);
CREATE INDEX index_prices_run_time ON index_prices (run_id, local_ns);
CREATE INDEX quote_decisions_run_time ON quote_decisions (run_id, local_ns);
CREATE INDEX order_events_run_time ON order_events (run_id, local_ns);
CREATE INDEX fills_run_time ON fills (run_id, local_ns);
CREATE INDEX rpc_errors_run_time ON rpc_errors (run_id, local_ns);
CREATE INDEX position_snapshots_run_time ON position_snapshots (run_id, local_ns);
CREATE INDEX risk_events_run_time ON risk_events (run_id, local_ns);
"""

_V2 = """
DROP INDEX top_of_book_run_time;
DROP INDEX tickers_run_time;
DROP INDEX trades_run_time;
DROP INDEX index_prices_run_time;
DROP INDEX quote_decisions_run_time;
DROP INDEX order_events_run_time;
DROP INDEX fills_run_time;
DROP INDEX rpc_errors_run_time;
DROP INDEX position_snapshots_run_time;
DROP INDEX risk_events_run_time;
CREATE INDEX top_of_book_run_time_brin ON top_of_book
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX tickers_run_time_brin ON tickers
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX trades_run_time_brin ON trades
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX index_prices_run_time_brin ON index_prices
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX quote_decisions_run_time_brin ON quote_decisions
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX order_events_run_time_brin ON order_events
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX fills_run_time_brin ON fills
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX rpc_errors_run_time_brin ON rpc_errors
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX position_snapshots_run_time_brin ON position_snapshots
    USING brin (run_id, local_ns) WITH (autosummarize = on);
CREATE INDEX risk_events_run_time_brin ON risk_events
    USING brin (run_id, local_ns) WITH (autosummarize = on);
"""

_V3 = """
CREATE TABLE fill_fees (
    sink_id bigint NOT NULL,
    seq bigint NOT NULL,
    run_id text NOT NULL,
    local_ns bigint NOT NULL,
    instrument text NOT NULL,
    trade_id text NOT NULL,
    fee_change double precision NOT NULL,
    UNIQUE (sink_id, seq)
);
CREATE INDEX fill_fees_run_time_brin ON fill_fees
    USING brin (run_id, local_ns) WITH (autosummarize = on);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1),
    Migration(2, "BRIN instead of btree time indexes", _V2),
    Migration(3, "fees learnt after their fills", _V3),
)
"""Every migration, in order. Append only: never edit one that has shipped."""

HYPERTABLES: tuple[str, ...] = (
    "top_of_book",
    "tickers",
    "trades",
    "index_prices",
    "quote_decisions",
)
"""Append-only market tables that become hypertables under TimescaleDB.

Execution tables stay plain: their `(sink_id, seq)` uniqueness would have to include the
partition column on a hypertable, and their volume is small.
"""

COMPRESS_AFTER_NS = 7 * DAY_NS


def apply_migrations(conn: psycopg.Connection[TupleRow]) -> list[int]:
    """Apply every pending migration; returns the versions applied now (empty when current).

    Serialised across processes by a transaction-level advisory lock, and atomic: the
    migrations applied now, their `schema_migrations` rows and the TimescaleDB set-up commit
    together or not at all.
    """
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {int(row[0]) for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            applied_now.append(migration.version)
            _log.info("applied migration %d: %s", migration.version, migration.name)
        if applied_now and _enable_timescale(conn):
            _make_hypertables(conn)
    return applied_now


def timescale_available(conn: psycopg.Connection[TupleRow]) -> bool:
    """True when the server can load the `timescaledb` extension."""
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    return row is not None


def _enable_timescale(conn: psycopg.Connection[TupleRow]) -> bool:
    """Create the extension if the server has it; a failure leaves plain PostgreSQL tables.

    Tried inside a savepoint so that a refusal (not preloaded, no privilege) does not abort the
    migration transaction.
    """
    if not timescale_available(conn):
        _log.info("timescaledb not available: plain PostgreSQL tables with BRIN time indexes")
        return False
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error as exc:
        _log.warning("timescaledb present but not usable (%s): plain tables", exc)
        return False
    return True


Statement = tuple[sql.SQL | sql.Composed, tuple[object, ...]]
"""A statement and its parameters."""

INTEGER_NOW_FUNCTION = sql.SQL(
    "CREATE OR REPLACE FUNCTION thalex_now_ns() RETURNS bigint LANGUAGE sql STABLE AS"
    " $$ SELECT (extract(epoch FROM now()) * 1e9)::bigint $$"
)
"""Integer time columns need an "integer now" function for compression policies."""


def hypertable_statements(existing: dict[str, bool]) -> list[Statement]:
    """What makes every table of `HYPERTABLES` a compressed hypertable, given `existing`
    (hypertable name -> compression enabled), so that running it again does nothing new.

    New hypertables get no default index (the BRIN index of migration 2 serves the report;
    chunks already bound `local_ns`); compression settings are set only where not yet enabled,
    since TimescaleDB refuses to change them once chunks are compressed.
    """
    statements: list[Statement] = [(INTEGER_NOW_FUNCTION, ())]
    for table in HYPERTABLES:
        if table not in existing:
            statements.append(
                (
                    sql.SQL(
                        "SELECT create_hypertable(%s::regclass, 'local_ns',"
                        " chunk_time_interval => %s::bigint, create_default_indexes => false,"
                        " migrate_data => true, if_not_exists => true)"
                    ),
                    (table, DAY_NS),
                )
            )
        statements.append(
            (
                sql.SQL(
                    "SELECT set_integer_now_func(%s::regclass, 'thalex_now_ns',"
                    " replace_if_exists => true)"
                ),
                (table,),
            )
        )
        if not existing.get(table, False):
            alter = sql.SQL(
                "ALTER TABLE {} SET (timescaledb.compress, timescaledb.compress_segmentby ="
                " 'run_id', timescaledb.compress_orderby = 'local_ns')"
            ).format(sql.Identifier(table))
            statements.append((alter, ()))
        statements.append(
            (
                sql.SQL(
                    "SELECT add_compression_policy(%s::regclass, %s::bigint, if_not_exists => true)"
                ),
                (table, COMPRESS_AFTER_NS),
            )
        )
    return statements


def _make_hypertables(conn: psycopg.Connection[TupleRow]) -> None:
    existing = {
        str(name): bool(compressed)
        for name, compressed in conn.execute(
            "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables"
            " WHERE hypertable_schema = current_schema()"
        )
    }
    for statement, params in hypertable_statements(existing):
        conn.execute(statement, params or None)
    _log.info("timescaledb: %d hypertables with compression after 7 days", len(HYPERTABLES))
