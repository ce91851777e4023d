"""Position accounting: size is the signed sum of fills; PnL identities hold exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.domain.strategies import fills
from thalex_trio.domain.enums import InstrumentKind, Liquidity, Side
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import TradeId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.position import Position


def replay(sequence: list[Fill]) -> Position:
    position = Position("BTC-PERPETUAL")
    for fill in sequence:
        position = position.apply_fill(fill)
    return position


@given(st.lists(fills(), max_size=40))
def test_size_is_the_signed_sum_of_fills(sequence: list[Fill]) -> None:
    assert replay(sequence).size_lots == sum(f.signed_lots for f in sequence)


@given(st.lists(fills(), max_size=40), st.integers(1, 2_000_000))
def test_realised_plus_unrealised_equals_mark_to_market_of_cash_flows(
    sequence: list[Fill], mark_ticks: int
) -> None:
    position = replay(sequence)
    cash = -sum(f.signed_lots * f.price_ticks for f in sequence)
    mark = Fraction(mark_ticks)
    assert position.cash_tick_lots == cash
    assert (
        position.realised_tick_lots + position.unrealised_tick_lots(mark)
        == cash + position.size_lots * mark
    )


@given(st.lists(fills(), max_size=40))
def test_fees_are_the_sum_of_fill_fees(sequence: list[Fill]) -> None:
    assert replay(sequence).fees == pytest.approx(sum(f.fee for f in sequence), abs=1e-9)


def fill(side: Side, price_ticks: int, lots: int, fee: float = 0.0) -> Fill:
    return Fill(
        TradeId(f"{side.value}{price_ticks}{lots}"),
        "BTC-PERPETUAL",
        side,
        price_ticks,
        lots,
        Liquidity.MAKER,
        fee,
        0,
    )


def test_round_trip_realises_the_spread_and_flip_reopens_at_the_fill() -> None:
    instrument = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 0.5, 0.001, 0.001)
    position = replay([fill(Side.BUY, 200_000, 100, 0.5), fill(Side.BUY, 200_010, 100)])
    assert position.avg_entry_ticks == 200_005
    position = position.apply_fill(fill(Side.SELL, 200_020, 300, -0.25))
    assert position.size_lots == -100
    assert position.avg_entry_ticks == 200_020  # the flipped remainder opened at the fill
    assert position.realised_tick_lots == 15 * 200
    pnl = position.pnl(instrument, mark_price=100_005.0)  # 200_010 ticks
    assert pnl.realised == pytest.approx(15 * 200 * 0.0005)
    assert pnl.unrealised == pytest.approx(10 * 100 * 0.0005)
    assert pnl.fees == pytest.approx(0.25)
    assert pnl.total == pytest.approx(pnl.realised + pnl.unrealised - 0.25)


def test_a_fill_for_another_instrument_is_refused() -> None:
    with pytest.raises(ValueError, match="applied to"):
        Position("ETH-PERPETUAL").apply_fill(fill(Side.BUY, 1, 1))
