"""Closed vocabularies that exist only on the wire (the domain has no use for them).

Values are the exchange's own spelling (API.md §5, §7, §8, §9), so the codec maps them 1:1.
"""

from __future__ import annotations

import enum


class StpLevel(enum.Enum):
    """Self-trade prevention level override."""

    CUSTOMER = "customer"
    ACCOUNT = "account"
    DISABLED = "disabled"


class StpAction(enum.Enum):
    """Self-trade prevention action override."""

    CANCEL_AGGRESSIVE_PARTIAL_FILL = "cancel_aggressive_partial_fill"
    CANCEL_AGGRESSIVE_NO_FILL = "cancel_aggressive_no_fill"


class Sort(enum.Enum):
    """History sort order."""

    ASCENDING = "ascending"
    DESCENDING = "descending"


class InstrumentTypeFilter(enum.Enum):
    """`instrument_type` filter of `public/instruments`."""

    FUTURES = "futures"
    OPTIONS = "options"
    FUTURE_ROLLS = "future_rolls"


class TradeType(enum.Enum):
    """`trade_type` of an account trade."""

    NORMAL = "normal"
    BLOCK = "block"
    COMBO = "combo"
    AMEND = "amend"
    DELETE = "delete"
    INTERNAL_TRANSFER = "internal_transfer"
    EXPIRATION = "expiration"
    DAILY_MARK = "daily_mark"
    RFQ = "rfq"
    LIQUIDATION = "liquidation"


class MmProtectionReason(enum.Enum):
    """Why a `session.mm_protection` update was sent."""

    REFILL = "refill"
    EXECUTIONS = "executions"
    CLIENT_CANCEL = "client_cancel"
    SESSION_END = "session_end"
    FAILOVER = "failover"


class SystemEventKind(enum.Enum):
    """`event` of the `system` channel."""

    RECONNECT = "reconnect"


class Environment(enum.Enum):
    """`environment` of `public/system_info`."""

    TESTNET = "testnet"
    PRODUCTION = "production"


class BannerSeverity(enum.Enum):
    """Severity of an exchange banner."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
