"""A golden backtest on `btcusdt_20240718.gz` with the shipped config, and determinism.

Tolerances: counts (events, fills, lots, messages) are exact, since the run is a deterministic
function of the file and the config. Money and averages get a relative tolerance of 1e-6 (and
an absolute 1e-9): they are sums of floats whose order is fixed, so they only move if numpy's
summation or the fee arithmetic changes. Any larger change means the strategy, reconciler,
risk or engine behaves differently, and the values must be re-derived on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from thalex_trio.backtest.runner import run_backtest
from thalex_trio.backtest.summary import dumps, fills_csv

from .conftest import GOLDEN_FILE

if TYPE_CHECKING:
    from thalex_trio.backtest.settings import BacktestConfig

    from .conftest import GoldenRun

EXACT = {
    ("events",): 78488,
    ("fills", "count"): 24,
    ("fills", "buy"): 4,
    ("fills", "sell"): 20,
    ("fills", "lots_buy"): 40,
    ("fills", "lots_sell"): 200,
    ("inventory", "final_lots"): -160,
    ("inventory", "max_abs_lots"): 160,
    ("quoting", "order_messages"): 126,
    ("quoting", "decisions"): 459,
    ("quoting", "rejected"): 0,
    ("engine", "crossed"): 0,
    ("data", "sequence_breaks"): 0,
}
APPROX = {
    ("pnl", "total"): -4.5006618,
    ("pnl", "spread_capture"): 0.405,
    ("pnl", "inventory"): -1.836,
    ("pnl", "fees"): 3.0696618,
    ("pnl", "funding"): 0.0,
    ("inventory", "mean_lots"): -63.277027027,
    ("risk", "max_drawdown"): 4.5006618,
    ("risk", "sharpe_per_minute"): -0.982031407,
    ("quoting", "fill_ratio"): 0.8,
}


def _get(doc: dict[str, object], path: tuple[str, ...]) -> object:
    value: object = doc
    for key in path:
        assert isinstance(value, dict)
        value = value[key]
    return value


@pytest.mark.parametrize("path", sorted(EXACT))
def test_golden_exact(golden_run: GoldenRun, path: tuple[str, ...]) -> None:
    _, doc = golden_run
    assert _get(doc, path) == EXACT[path]


@pytest.mark.parametrize("path", sorted(APPROX))
def test_golden_approx(golden_run: GoldenRun, path: tuple[str, str]) -> None:
    _, doc = golden_run
    assert _get(doc, path) == pytest.approx(APPROX[path], rel=1e-6, abs=1e-9)


def test_positions_agree(golden_run: GoldenRun) -> None:
    result, doc = golden_run
    assert doc["positions_agree"] is True
    assert result.engine_position_lots == result.tracker_position_lots == -160


def test_same_inputs_give_identical_bytes(
    golden_run: GoldenRun, golden_config: BacktestConfig
) -> None:

    result, doc = golden_run
    again, doc_again = run_backtest(golden_config, [GOLDEN_FILE])
    assert dumps(doc) == dumps(doc_again)
    assert fills_csv(result) == fills_csv(again)
