"""Each venue action becomes the engine request the live venue would put on the wire."""

from __future__ import annotations

from thalex_trio.domain.actions import Amend, Cancel, Insert, MassQuote
from thalex_trio.domain.enums import InstrumentKind, Side, TimeInForce
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.quote import Quote
from thalex_trio.sim.engine.from_actions import request_from_action
from thalex_trio.sim.engine.requests import (
    AmendOrder,
    CancelOrder,
    InsertOrder,
    QuoteLevel,
    SideQuotes,
)
from thalex_trio.sim.engine.requests import MassQuote as EngineMassQuote

PERP = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 0.5, 0.001, 0.001)
"""Half-dollar ticks, so a tick count is not the price."""


def test_insert_carries_price_amount_and_flags_in_wire_units() -> None:
    action = Insert(
        ClientOrderId(7),
        PERP.name,
        Side.SELL,
        price_ticks=120_001,
        amount_lots=25,
        post_only=False,
        reduce_only=True,
        time_in_force=TimeInForce.IOC,
    )
    assert request_from_action(action, PERP) == InsertOrder(
        instrument_name=PERP.name,
        side=Side.SELL,
        amount=0.025,
        price=60_000.5,
        client_order_id=ClientOrderId(7),
        time_in_force=TimeInForce.IOC,
        post_only=False,
        reduce_only=True,
    )
    # The defaults of an Insert are what the reconciler sends: post-only GTC limit orders.
    default = request_from_action(Insert(ClientOrderId(8), PERP.name, Side.BUY, 2, 1), PERP)
    assert isinstance(default, InsertOrder)
    assert default.post_only
    assert default.time_in_force is TimeInForce.GTC
    assert not default.reduce_only


def test_amend_is_by_client_id_with_new_price_and_original_amount() -> None:
    request = request_from_action(Amend(ClientOrderId(3), price_ticks=4, amount_lots=2000), PERP)
    assert request == AmendOrder(price=2.0, amount=2.0, client_order_id=ClientOrderId(3))


def test_cancel_is_by_client_id() -> None:
    assert request_from_action(Cancel(ClientOrderId(9)), PERP) == CancelOrder(
        client_order_id=ClientOrderId(9)
    )


def test_mass_quote_keeps_untouched_and_emptied_sides_apart() -> None:
    action = MassQuote(
        PERP.name,
        bids=(Quote(Side.BUY, 100, 3), Quote(Side.BUY, 99, 0)),
        asks=None,
    )
    assert request_from_action(action, PERP) == EngineMassQuote(
        quotes=(
            SideQuotes(
                instrument_name=PERP.name,
                bids=(QuoteLevel(50.0, 0.003), QuoteLevel(49.5, 0.0)),
                asks=None,
            ),
        ),
        post_only=True,
    )
    emptied = request_from_action(MassQuote(PERP.name, bids=None, asks=()), PERP)
    assert isinstance(emptied, EngineMassQuote)
    assert emptied.quotes[0].bids is None
    assert emptied.quotes[0].asks == ()
