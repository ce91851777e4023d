"""Hypothesis strategies for domain values, shared by the domain tests."""

from __future__ import annotations

from hypothesis import strategies as st

from thalex_trio.domain.enums import InstrumentKind, Liquidity, Side
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import TradeId
from thalex_trio.domain.instrument import Instrument

# Grids seen on Thalex and in the shared data: tick 1/0.5/0.1/5, lot 0.001/0.01/0.1/1.
TICK_SIZES = (0.1, 0.5, 1.0, 5.0, 0.0001, 2.5)
LOT_SIZES = (0.001, 0.01, 0.1, 1.0, 0.0001)


@st.composite
def instruments(draw: st.DrawFn) -> Instrument:
    """A perpetual with a realistic price and amount grid."""
    lot = draw(st.sampled_from(LOT_SIZES))
    return Instrument(
        name="BTC-PERPETUAL",
        kind=InstrumentKind.PERPETUAL,
        underlying="BTCUSD",
        tick_size=draw(st.sampled_from(TICK_SIZES)),
        volume_tick_size=lot,
        min_order_amount=lot * draw(st.integers(1, 10)),
    )


def fills(instrument_name: str = "BTC-PERPETUAL") -> st.SearchStrategy[Fill]:
    """Fills with unique-enough trade ids, prices 1..10^6 ticks and amounts 1..1000 lots."""
    return st.builds(
        Fill,
        trade_id=st.uuids().map(lambda u: TradeId(u.hex)),
        instrument_name=st.just(instrument_name),
        side=st.sampled_from(Side),
        price_ticks=st.integers(1, 1_000_000),
        amount_lots=st.integers(1, 1000),
        liquidity=st.sampled_from(Liquidity),
        fee=st.floats(-10, 10, allow_nan=False),
        time_ns=st.integers(0, 2**62),
    )
