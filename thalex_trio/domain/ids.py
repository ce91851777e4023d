"""Distinct id types, so a client order id can never be passed where an exchange id belongs."""

from __future__ import annotations

from typing import NewType

ClientOrderId = NewType("ClientOrderId", int)
"""Our own order id, unique per session; Thalex accepts 0 .. 2**32-1 safely (see API.md §5.1)."""

ExchangeOrderId = NewType("ExchangeOrderId", str)
"""Thalex's `order_id`, 16 upper-case hex characters on the real exchange."""

TradeId = NewType("TradeId", str)
"""Thalex's `trade_id`, 32 upper-case hex characters on the real exchange."""

CLIENT_ORDER_ID_MAX = 2**32 - 1
