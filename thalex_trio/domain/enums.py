"""Closed vocabularies of the exchange, with the exchange's own spelling as the enum value."""

from __future__ import annotations

import enum


class Side(enum.Enum):
    """Order direction; `sign` is +1 for buy and -1 for sell."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for buy, -1 for sell: the sign a fill of this side adds to the position."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        """The other side of the book."""
        return Side.SELL if self is Side.BUY else Side.BUY


class InstrumentKind(enum.Enum):
    """Thalex instrument `type`."""

    PERPETUAL = "perpetual"
    FUTURE = "future"
    OPTION = "option"
    COMBINATION = "combination"


class OptionType(enum.Enum):
    """Call or put."""

    CALL = "call"
    PUT = "put"


class OrderType(enum.Enum):
    """Thalex `order_type`."""

    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.Enum):
    """Thalex `time_in_force`."""

    GTC = "good_till_cancelled"
    IOC = "immediate_or_cancel"


class Collar(enum.Enum):
    """Thalex `collar`: what happens to an order whose limit price is beyond the instrument's
    price collar (API.md §5.2); the simulator's matching engine applies it too."""

    IGNORE = "ignore"
    REJECT = "reject"
    CLAMP = "clamp"


class OrderStatus(enum.Enum):
    """Exchange order status (API.md §6.1). Final states are filled and the two cancelled ones."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    CANCELLED_PARTIALLY_FILLED = "cancelled_partially_filled"

    @property
    def is_active(self) -> bool:
        """True while the order can still trade."""
        return self in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class ChangeReason(enum.Enum):
    """Why the exchange sent an order update."""

    EXISTING = "existing"
    INSERT = "insert"
    AMEND = "amend"
    CANCEL = "cancel"
    FILL = "fill"


class DeleteReason(enum.Enum):
    """Why the exchange deleted an order (API.md §6.1), spelled as the exchange spells it."""

    CLIENT_CANCEL = "client_cancel"
    CLIENT_BULK_CANCEL = "client_bulk_cancel"
    SESSION_END = "session_end"
    INSTRUMENT_DEACTIVATED = "instrument_deactivated"
    MM_PROTECTION = "mm_protection"
    FAILOVER = "failover"
    MARGIN_BREACH = "margin_breach"
    FILLED = "filled"
    IMMEDIATE_CANCEL = "immediate_cancel"
    ADMIN_CANCEL = "admin_cancel"
    REPLACED = "replaced"
    SELF_TRADE_PREVENTION = "self_trade_prevention"


class InsertReason(enum.Enum):
    """Who created an order."""

    CLIENT_REQUEST = "client_request"
    CONDITIONAL_ORDER = "conditional_order"
    BOT = "bot"
    LIQUIDATION = "liquidation"


class Liquidity(enum.Enum):
    """Thalex `maker_taker` on a fill."""

    MAKER = "maker"
    TAKER = "taker"
