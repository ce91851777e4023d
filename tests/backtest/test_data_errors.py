"""`backtest` on data it cannot replay: a clear message and exit code 2, nothing written;
and captures of several symbols replayed as the configured one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from thalex_trio.backtest.summary import dumps
from thalex_trio.cli import main

from .conftest import CONFIG, DATA, GOLDEN_FILE

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from .conftest import GoldenRun

CONTINUATION = DATA / "btcusdt_20240719.gz"
PERP = DATA / "btcusd_perp_20240808.gz"


def _backtest(out: Path, *data: Path, sets: tuple[str, ...] = ()) -> int:
    argv = ["backtest", "--config", str(CONFIG), "--out", str(out), "--data", *map(str, data)]
    for assignment in ("backtest.charts=false", *sets):
        argv += ["--set", assignment]
    return main(argv)


def test_a_continuation_file_alone_says_it_needs_the_one_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _backtest(tmp_path / "out", CONTINUATION) == 2
    err = capsys.readouterr().err
    assert "no BTCUSDT snapshot" in err
    assert "needs the file before it" in err
    assert not (tmp_path / "out").exists()


def test_files_out_of_time_order_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _backtest(tmp_path / "out", CONTINUATION, GOLDEN_FILE) == 2
    assert "give the files in time order" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_configured_symbol_is_replayed_from_a_mixed_set(
    tmp_path: Path, golden_run: GoldenRun
) -> None:
    assert _backtest(tmp_path / "out", PERP, GOLDEN_FILE) == 0
    summary = orjson.loads((tmp_path / "out" / "summary.json").read_bytes())
    assert summary["data"]["other_symbol_lines"] > 0
    golden = orjson.loads(dumps(golden_run[1]))
    for key in ("events", "fills", "pnl", "inventory", "quoting"):
        assert summary[key] == golden[key], key  # the BTCUSDT file alone, as in the golden run


def test_several_symbols_and_none_configured_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = ("instrument.name=BTC-PERPETUAL",)
    assert _backtest(tmp_path / "out", PERP, GOLDEN_FILE, sets=sets) == 2
    assert "the captures hold BTCUSDT, BTCUSD_PERP" in capsys.readouterr().err
