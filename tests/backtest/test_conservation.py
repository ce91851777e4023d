"""Conservation: cash + position x fair - fees + funding equals the PnL the average-cost
position reports, at every fill; and the decomposition adds up to the total."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from thalex_trio.backtest import metrics

if TYPE_CHECKING:
    from .conftest import GoldenRun


def test_every_fill_reconciles(golden_run: GoldenRun) -> None:
    result, _ = golden_run
    unit = result.instrument.quote_per_tick_lot
    assert result.fills
    position = cash = 0
    fees = 0.0
    for row in result.fills:
        position += row.side * row.amount_lots
        cash -= row.side * row.amount_lots * row.price_ticks
        fees += row.fee
        assert row.position_lots == position
        assert row.cash_tick_lots == cash
        assert row.fees_total == pytest.approx(fees, abs=1e-9)
        by_cash = (cash + position * row.fair_ticks) * unit - fees + row.funding_total
        assert by_cash == pytest.approx(row.reported_pnl, abs=1e-6)


def test_decomposition_adds_up(golden_run: GoldenRun) -> None:
    result, doc = golden_run
    pnl = doc["pnl"]
    assert isinstance(pnl, dict)
    parts = pnl["spread_capture"] + pnl["inventory"] - pnl["fees"] + pnl["funding"]
    assert parts == pytest.approx(pnl["total"], abs=1e-6)
    mid = metrics.final_mid(result)
    reported = result.account.pnl(result.instrument, mid * result.instrument.tick_size).total
    assert reported == pytest.approx(pnl["total"], abs=1e-6)


def test_curve_ends_at_the_total(golden_run: GoldenRun) -> None:
    result, doc = golden_run
    curve = metrics.pnl_curve(result)
    pnl = doc["pnl"]
    assert isinstance(pnl, dict)
    assert float(curve.total[-1]) == pytest.approx(pnl["total"], abs=1e-6)
    assert int(curve.position_lots[-1]) == result.account.size_lots
