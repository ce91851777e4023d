"""Channel names as Thalex spells them (API.md §9.2): builders, a parser, and routing classes.

There is no `trades.<instrument>` or `index.<x>` channel: public trades come in `book.*` and
`recent_trades.*`, the index in `price_index.<underlying>`, our fills in the order channels.
"""

from __future__ import annotations

import enum
import functools
from typing import Literal

from attrs import frozen


class UnknownChannel(ValueError):
    """A channel name outside the grammar this client understands."""


class Delay(enum.Enum):
    """Minimum interval between notifications of a throttled public channel."""

    MS100 = "100ms"
    MS200 = "200ms"
    MS500 = "500ms"
    MS1000 = "1000ms"
    MS5000 = "5000ms"
    MS60000 = "60000ms"
    RAW = "raw"


class ChannelRoute(enum.Enum):
    """Which stream of the session a channel's notifications travel on.

    Market data may be conflated by its consumer; account events are never dropped; system
    events steer the session itself.
    """

    MARKET = "market"
    ACCOUNT = "account"
    SYSTEM = "system"


class ChannelKind(enum.Enum):
    """The channel families the bot uses; the value is the name or its first component(s)."""

    BOOK = "book"
    TICKER = "ticker"
    LWT = "lwt"
    RECENT_TRADES = "recent_trades"
    PRICE_INDEX = "price_index"
    INSTRUMENTS = "instruments"
    SYSTEM = "system"
    SESSION_ORDERS = "session.orders"
    ACCOUNT_ORDERS = "account.orders"
    ACCOUNT_PERSISTENT_ORDERS = "account.persistent_orders"
    ACCOUNT_TRADE_HISTORY = "account.trade_history"
    ACCOUNT_PORTFOLIO = "account.portfolio"
    ACCOUNT_SUMMARY = "account.summary"
    SESSION_MM_PROTECTION = "session.mm_protection"

    @property
    def is_private(self) -> bool:
        """True for channels that need a login and `private/subscribe`."""
        return self.value.startswith(("session.", "account."))

    @property
    def route(self) -> ChannelRoute:
        """The session stream this family's notifications go to."""
        if self is ChannelKind.SYSTEM:
            return ChannelRoute.SYSTEM
        return ChannelRoute.ACCOUNT if self.is_private else ChannelRoute.MARKET


_PRIVATE_NAMES = {k.value: k for k in ChannelKind if k.is_private}


@frozen
class Channel:
    """A parsed channel name.

    `subject` is the instrument (book, ticker, lwt), the target (recent_trades) or the
    underlying (price_index); None for channels without one.
    """

    name: str
    kind: ChannelKind
    subject: str | None = None

    @property
    def is_private(self) -> bool:
        """True when subscribing needs `private/subscribe`."""
        return self.kind.is_private


def book_channel(
    instrument_name: str,
    *,
    nlevels: int | Literal["all"] = 10,
    grouping: str = "none",
    delay: Delay = Delay.MS100,
) -> Channel:
    """`book.<instrument>.<grouping>.<nlevels>.<delay>`."""
    name = f"book.{instrument_name}.{grouping}.{nlevels}.{delay.value}"
    return Channel(name, ChannelKind.BOOK, instrument_name)


def ticker_channel(instrument_name: str, delay: Delay = Delay.MS100) -> Channel:
    """`ticker.<instrument>.<delay>`."""
    return Channel(f"ticker.{instrument_name}.{delay.value}", ChannelKind.TICKER, instrument_name)


def lwt_channel(instrument_name: str, delay: Delay = Delay.MS100) -> Channel:
    """`lwt.<instrument>.<delay>`: the lightweight ticker."""
    return Channel(f"lwt.{instrument_name}.{delay.value}", ChannelKind.LWT, instrument_name)


def recent_trades_channel(
    target: str, category: Literal["single", "all", "options", "future_rolls"] = "single"
) -> Channel:
    """`recent_trades.<target>.<category>`; `single` needs an instrument target."""
    return Channel(f"recent_trades.{target}.{category}", ChannelKind.RECENT_TRADES, target)


def price_index_channel(underlying: str) -> Channel:
    """`price_index.<underlying>`, e.g. `price_index.BTCUSD`."""
    return Channel(f"price_index.{underlying}", ChannelKind.PRICE_INDEX, underlying)


def private_channel(kind: ChannelKind) -> Channel:
    """One of the fixed-name private channels (`session.orders`, `account.portfolio`, ...)."""
    if not kind.is_private:
        raise ValueError(f"{kind.value} is not a private channel")
    return Channel(kind.value, kind)


INSTRUMENTS = Channel("instruments", ChannelKind.INSTRUMENTS)
"""All instrument additions and removals."""

SYSTEM = Channel("system", ChannelKind.SYSTEM)
"""Exchange system events, notably `reconnect` (API.md §4.3)."""

_DELAYS = frozenset(d.value for d in Delay)


@functools.lru_cache(maxsize=4096)
def parse_channel(name: str) -> Channel:
    """Parse a channel name; raises UnknownChannel for anything outside the grammar.

    Cached because the reader parses the same few names on every notification.
    """
    kind = _PRIVATE_NAMES.get(name)
    if kind is not None:
        return Channel(name, kind)
    if name == "system":
        return SYSTEM
    head, _, rest = name.partition(".")
    parts = rest.split(".")
    match head:
        case "ticker" | "lwt" if len(parts) == 2 and parts[0] and parts[1] in _DELAYS:
            kind = ChannelKind.TICKER if head == "ticker" else ChannelKind.LWT
            return Channel(name, kind, parts[0])
        case "book" if len(parts) >= 4 and parts[0] and parts[-1] in _DELAYS:
            # The grouping in the middle may itself contain a dot (a USD value like 0.5).
            return Channel(name, ChannelKind.BOOK, parts[0])
        case "recent_trades" if len(parts) == 2 and parts[1] in {
            "single",
            "all",
            "options",
            "future_rolls",
        }:
            return Channel(name, ChannelKind.RECENT_TRADES, parts[0])
        case "price_index" if len(parts) == 1 and parts[0]:
            return Channel(name, ChannelKind.PRICE_INDEX, parts[0])
        case "instruments" if not rest or len(parts) == 3:
            return Channel(name, ChannelKind.INSTRUMENTS)
        case _:
            raise UnknownChannel(f"unknown channel {name[:80]!r}")
