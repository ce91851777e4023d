"""Calibration: the suggested gamma produces the target skew at the position limit."""

from __future__ import annotations

import pytest

from thalex_trio.backtest.calibration import glft_skew_per_unit, suggest_gamma


def test_suggested_gamma_hits_the_target_skew() -> None:
    gamma = suggest_gamma(4.0, 2.0, 0.3, limit_units=10.0, target_ticks=5.0)
    assert glft_skew_per_unit(gamma, 4.0, 2.0, 0.3) * 10.0 == pytest.approx(5.0, rel=1e-6)
