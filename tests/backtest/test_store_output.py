"""A backtest with `backtest.store = true` writes its run to the store (the session's PostgreSQL
of tests/postgres.py), and `report` reads back what the backtest's own summary says."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

import psycopg
import pytest

from thalex_trio.backtest.settings import load_backtest_config
from thalex_trio.backtest.stored_run import run_stored, store_wanted
from thalex_trio.commands import backtest as backtest_command
from thalex_trio.store.report import load_run, summarise

from .conftest import CONFIG, GOLDEN_FILE

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("THALEX_TRIO_")}


async def test_the_stored_run_reports_what_the_summary_says(
    db_dsn: str,
    tmp_path: Path,
) -> None:
    config = load_backtest_config(
        CONFIG,
        _environ(),
        [
            "backtest.store=true",
            "persistence.enabled=true",
            f'persistence.data_dir="{tmp_path}"',  # the writer's journal goes here
        ],
    )
    assert store_wanted(config)
    result, doc, run_id = await run_stored(config, [GOLDEN_FILE], dsn=db_dsn)
    assert run_id is not None
    with psycopg.connect(db_dsn) as conn:
        data = load_run(conn, run_id)
        stored_fills = conn.execute(
            "SELECT side, price_ticks, amount_lots, level FROM fills WHERE run_id = %s"
            " ORDER BY seq",
            (run_id,),
        ).fetchall()
        stops = conn.execute(
            "SELECT exit_code FROM run_stops WHERE run_id = %s", (run_id,)
        ).fetchall()
    report = summarise(data)
    assert report.run.mode == "backtest"
    assert stops == [(0,)]
    assert [(s, p, a, lv) for s, p, a, lv in stored_fills] == [
        ("buy" if f.side > 0 else "sell", f.price_ticks, f.amount_lots, f.level)
        for f in result.fills
    ]
    quoting = doc["quoting"]
    assert isinstance(quoting, dict)
    assert report.order_messages == quoting["order_messages"] == result.order_messages
    assert report.rejected == result.rejected
    (inst,) = report.instruments
    fills = doc["fills"]
    assert isinstance(fills, dict)
    assert (inst.fills_buy, inst.fills_sell) == (fills["buy"], fills["sell"])
    assert inst.final_position_lots == result.account.size_lots
    pnl = doc["pnl"]
    assert isinstance(pnl, dict)
    # Money from the stored fills and mids agrees with the backtest's own ledger; the last
    # stored mid is the last sample, which is the backtest's final mid.
    assert inst.unit == "quote"
    assert inst.total_pnl == pytest.approx(pnl["total"], abs=1e-6)
    assert inst.spread_capture == pytest.approx(pnl["spread_capture"], abs=1e-6)
    assert inst.fees == pytest.approx(pnl["fees"], abs=1e-9)
    # The recorded PnL curve ends at the same total (a final snapshot at the end of data).
    assert data.pnl_points[-1].total == pytest.approx(pnl["total"], abs=1e-6)


def test_the_command_stores_the_run_when_asked(
    db_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("THALEX_TRIO_DSN", db_dsn)
    parser = argparse.ArgumentParser()
    backtest_command.add_arguments(parser)
    args = parser.parse_args(
        [
            "--config", str(CONFIG), "--data", str(GOLDEN_FILE), "--out", str(tmp_path / "out"),
            "--set", "backtest.charts=false", "--set", "backtest.store=true",
            "--set", "persistence.enabled=true",
            "--set", f'persistence.data_dir="{tmp_path}"',
        ]
    )  # fmt: skip
    assert backtest_command.run(args) == 0
    err = capsys.readouterr().err
    assert "stored as run" in err
    run_id = err.split("stored as run ")[1].split()[0]
    with psycopg.connect(db_dsn) as conn:
        assert summarise(load_run(conn, run_id)).run.mode == "backtest"
