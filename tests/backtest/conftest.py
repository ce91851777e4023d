"""Shared fixtures: the shared recordings and one golden backtest run per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from thalex_trio.backtest.driver import BacktestResult
from thalex_trio.backtest.runner import run_backtest
from thalex_trio.backtest.settings import BacktestConfig, load_backtest_config

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "binance-btc-perp"
CONFIG = ROOT / "config" / "backtest-binance-btcusdt.toml"
GOLDEN_FILE = DATA / "btcusdt_20240718.gz"


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("THALEX_TRIO_")}


GoldenRun = tuple[BacktestResult, dict[str, object]]
"""What the golden backtest fixture yields: the result and its summary document."""


@pytest.fixture(scope="session")
def golden_config() -> BacktestConfig:
    return load_backtest_config(CONFIG, _environ(), ["backtest.charts=false"])


@pytest.fixture(scope="session")
def golden_run(golden_config: BacktestConfig) -> GoldenRun:
    return run_backtest(golden_config, [GOLDEN_FILE])
