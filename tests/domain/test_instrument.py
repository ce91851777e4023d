"""Exact tick/lot conversion and the exchange's grid rule (round to 8 decimals, then check)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.domain.strategies import instruments
from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument, OffGridError


def perpetual(tick: float = 1.0, lot: float = 0.001, minimum: float = 0.001) -> Instrument:
    return Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", tick, lot, minimum)


@given(instruments(), st.integers(-(10**7), 10**7))
def test_ticks_round_trip_through_the_wire_float(instrument: Instrument, ticks: int) -> None:
    assert instrument.price_to_ticks(instrument.ticks_to_price(ticks)) == ticks


@given(instruments(), st.integers(0, 10**7))
def test_lots_round_trip_through_the_wire_float(instrument: Instrument, lots: int) -> None:
    assert instrument.amount_to_lots(instrument.lots_to_amount(lots)) == lots


@given(instruments(), st.integers(1, 10**6), st.integers(1, 99))
def test_off_grid_price_is_refused_not_moved(instrument: Instrument, ticks: int, pct: int) -> None:
    off = instrument.ticks_to_price(ticks) + instrument.tick_size * pct / 100
    with pytest.raises(OffGridError) as err:
        instrument.price_to_ticks(off)
    assert err.value.what == "price"
    assert instrument.name in str(err.value)


@given(instruments(), st.integers(1, 10**6), st.integers(1, 99))
def test_off_grid_amount_is_refused(instrument: Instrument, lots: int, pct: int) -> None:
    off = instrument.lots_to_amount(lots) + instrument.volume_tick_size * pct / 100
    with pytest.raises(OffGridError):
        instrument.amount_to_lots(off)


@pytest.mark.parametrize(
    ("tick", "price", "ticks"),
    [
        (0.1, 3.0999999999999999, 31),  # API.md §2.5: accepted as 3.1
        (0.1, 0.30000000000000004, 3),
        (1.0, 50000.000000001, 50000),  # below the 8th decimal: rounds onto the grid
        (5.0, 70000, 14000),
    ],
)
def test_rounding_to_8_decimals_happens_before_the_grid_check(
    tick: float, price: float, ticks: int
) -> None:
    assert perpetual(tick=tick).price_to_ticks(price) == ticks


def test_the_rust_sdk_live_example_is_off_grid() -> None:
    # API.md §5.2: tick 1, volume tick 0.001: price 10000.92 fails the tick check.
    instrument = perpetual()
    with pytest.raises(OffGridError):
        instrument.price_to_ticks(10000.92)
    with pytest.raises(OffGridError):
        instrument.amount_to_lots(0.00100001)


def test_minimum_order_lots_rounds_up_and_bad_grids_are_refused() -> None:
    assert perpetual(lot=0.001, minimum=0.0025).min_order_lots == 3
    with pytest.raises(ValueError, match="tick_size must be > 0"):
        perpetual(tick=0)
    with pytest.raises(ValueError, match="below volume_tick_size"):
        perpetual(lot=0.01, minimum=0.001)
    with pytest.raises(ValueError, match="finite"):
        perpetual().price_to_ticks(float("nan"))


def test_quote_value_of_one_tick_lot() -> None:
    assert perpetual(tick=0.5, lot=0.001).quote_per_tick_lot == pytest.approx(0.0005)
    assert perpetual(tick=0.5, lot=0.001).notional(200_000, 1000) == pytest.approx(100_000)
