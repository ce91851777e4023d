"""The soak's database: the bot's role needs its password, an outage refuses connections until
it ends, and a run is read back with every row scanned."""

from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from thalex_trio.soak.database import open_soak_database, read_run
from thalex_trio.store.db import migrate


def test_password_outage_and_reading_a_run() -> None:
    # Not under pytest's tmp_path: its pruning could delete a live server's data directory.
    with (
        tempfile.TemporaryDirectory(prefix="thalex-trio-test-soak-") as base,
        open_soak_database(Path(base)) as db,
    ):
        migrate(db.dsn)
        if db.embedded is not None:  # an external THALEX_TRIO_TEST_DSN server may trust all
            wrong = conninfo.make_conninfo(db.dsn, password="not-the-password")
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(wrong).close()
        with psycopg.connect(db.dsn) as conn:
            conn.execute("INSERT INTO runs VALUES ('r1', 1, 'live', 'v', 'sim', '{}', 7, 1)")
            conn.execute(
                "INSERT INTO fills (sink_id, seq, run_id, local_ns, exchange_ns, instrument, "
                "trade_id, side, price_ticks, amount_lots, liquidity, fee) "
                "VALUES (7, 2, 'r1', 2, 2, 'BTC-PERPETUAL', 'T1', 'sell', 100, 3, 'maker', 0)"
            )
        db.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(db.dsn, connect_timeout=2).close()
        db.start()
        seen: list[str] = []
        stored = read_run(db.store_dsn, seen.append)
        assert db.outages == 1
    assert stored.run_id == "r1"
    assert stored.fills == (("T1", -3),)
    assert stored.rows == len(seen) == 2
    assert any("T1" in row for row in seen)
