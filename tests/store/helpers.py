"""Reading back what the store wrote."""

from __future__ import annotations

import psycopg
from psycopg import sql

from thalex_trio.store.rows import TABLES


def table_rows(dsn: str, table: str) -> list[tuple[object, ...]]:
    """Every row of `table` in column order (JSON columns as text), sorted."""
    spec = TABLES[table]
    columns = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(c))
        if c in ("config", "bids", "asks", "params", "goodness_of_fit")
        else sql.Identifier(c)
        for c in spec.column_names
    )
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            sql.SQL("SELECT {} FROM {}").format(columns, sql.Identifier(table))
        ).fetchall()
    return sorted(rows, key=repr)


def execution_ids(dsn: str, table: str) -> list[tuple[int, int]]:
    """(sink_id, seq) of every row of an execution table, with duplicates kept."""
    with psycopg.connect(dsn) as conn:
        return [
            (int(a), int(b))
            for a, b in conn.execute(
                sql.SQL("SELECT sink_id, seq FROM {}").format(sql.Identifier(table))
            )
        ]
