"""A fill of one of our orders."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.ids import ClientOrderId, ExchangeOrderId, TradeId


@frozen
class Fill:
    """One execution of one of our orders.

    `fee` is in the quote currency and signed as a cost: positive is paid, negative is a rebate.
    """

    trade_id: TradeId
    instrument_name: str
    side: Side
    price_ticks: int
    amount_lots: int
    liquidity: Liquidity
    fee: float
    time_ns: int
    client_order_id: ClientOrderId | None = None
    exchange_order_id: ExchangeOrderId | None = None

    @property
    def signed_lots(self) -> int:
        """Lots this fill adds to the position (negative for a sell)."""
        return self.side.sign * self.amount_lots
