"""Hand-written structuring for the hot channels (ticker, book), and their fused domain decoders.

Generic cattrs structuring of the 23-field ticker costs several microseconds; these functions
do the same strict checks (numbers are numbers, required keys present) in straight-line code.
Field names here are the wire names, identical to the attrs names: renames stay in the
converter (`codec.py`), which is the only place that knows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import attrs

from thalex_trio.domain.enums import Side
from thalex_trio.domain.market import BookLevel, BookUpdate, Ticker
from thalex_trio.thalex import to_domain
from thalex_trio.thalex.wire_market import (
    ThalexBookLevel,
    ThalexBookPayload,
    ThalexBookTrade,
    ThalexTicker,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.domain.instrument import Instrument

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


def number(value: object) -> float:
    """A JSON number as a float; anything else (bool, string, null) is a TypeError."""
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def optional_number(value: object) -> float | None:
    """A JSON number or null."""
    if value is None:
        return None
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise TypeError(f"expected a number or null, got {type(value).__name__}")


def side(value: object) -> Side:
    """`"buy"` or `"sell"`."""
    if type(value) is not str or value not in _SIDES:
        raise ValueError(f"not a direction: {value!r:.40}")
    return _SIDES[value]


TICKER_OPTIONAL_FIELDS = (
    "best_bid_price",
    "best_bid_amount",
    "best_ask_price",
    "best_ask_amount",
    "last_price",
    "iv",
    "forward",
    "volume_24h",
    "value_24h",
    "low_price_24h",
    "high_price_24h",
    "change_24h",
    "collar_low",
    "collar_high",
    "open_interest",
    "funding_rate",
    "funding_mark",
    "realised_funding_24h",
    "average_funding_rate_24h",
)
"""ThalexTicker's optional fields, in declaration order (a test pins it to the class)."""


def ticker(value: object) -> ThalexTicker:
    """A `Ticker` object -> ThalexTicker (unknown keys ignored: lenient mode only)."""
    if type(value) is not dict:
        raise TypeError("a ticker is a JSON object")
    get = value.get
    # Floats pass straight through; anything else goes to the checking function.
    optional = [
        v if type(v) is float or v is None else number(v)
        for v in [get(name) for name in TICKER_OPTIONAL_FIELDS]
    ]
    mark, mark_time, delta, index = (
        value["mark_price"],
        value["mark_timestamp"],
        value["delta"],
        value["index"],
    )
    return ThalexTicker(
        mark if type(mark) is float else number(mark),
        mark_time if type(mark_time) is float else number(mark_time),
        delta if type(delta) is float else number(delta),
        index if type(index) is float else number(index),
        *optional,
    )


def book_level(value: object) -> ThalexBookLevel:
    """`[price, amount, outright_amount]` -> ThalexBookLevel."""
    if type(value) is not list or len(value) != 3:
        raise TypeError("a book level is [price, amount, outright_amount]")
    price, amount, outright = value
    return ThalexBookLevel(
        price if type(price) is float else number(price),
        amount if type(amount) is float else number(amount),
        outright if type(outright) is float else number(outright),
    )


def book_trade(value: object) -> ThalexBookTrade:
    """`[price, amount, direction, timestamp, implied_taker]` -> ThalexBookTrade."""
    if type(value) is not list or len(value) != 5:
        raise TypeError("a book trade is [price, amount, direction, time, implied_taker]")
    implied = value[4]
    if type(implied) is not bool:
        raise TypeError("implied_taker is a boolean")
    return ThalexBookTrade(
        number(value[0]), number(value[1]), side(value[2]), number(value[3]), implied
    )


def _levels(value: object) -> tuple[ThalexBookLevel, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise TypeError("book changes are an array")
    return tuple([book_level(level) for level in value])


def book_payload(value: object) -> ThalexBookPayload:
    """A `book.*` notification object -> ThalexBookPayload (lenient mode only)."""
    if type(value) is not dict:
        raise TypeError("a book notification is a JSON object")
    trades = value.get("trades")
    if trades is not None and type(trades) is not list:
        raise TypeError("book trades are an array")
    return ThalexBookPayload(
        number(value["time"]),
        tuple([book_trade(trade) for trade in trades]) if trades else (),
        _levels(value.get("bid_changes")),
        _levels(value.get("ask_changes")),
        optional_number(value.get("total_bid_amount")),
        optional_number(value.get("total_ask_amount")),
    )


# -- fused bytes -> domain decoding ----------------------------------------------------------
#
# The reader's hot channels skip the wire object: the parsed dict goes straight to the domain
# value, with the same strict checks as the structuring above, so a payload is accepted here
# exactly when `ticker`/`book_payload` followed by `to_domain` would accept it. On any error
# the caller reruns the generic path, which raises the usual, precise error.


def _compile_ticker_to_domain() -> Callable[[object, str], Ticker]:
    """Generate the straight-line ticker decoder from the two single sources of its mapping.

    Wire keys come from ThalexTicker's fields (the converter renames none of them: a test pins
    the keys to the converter's unstructured output) and the domain mapping from
    `to_domain.TICKER_COPIED_FIELDS`. Every wire field is checked, including those the domain
    drops, so the fused decoder rejects exactly what the generic one rejects.
    """
    lines = [
        "def ticker_to_domain(value, instrument_name):",
        "    if type(value) is not dict:",
        "        raise TypeError('a ticker is a JSON object')",
    ]
    variable: dict[str, str] = {}
    for index, wire_field in enumerate(attrs.fields_dict(ThalexTicker).values()):
        # Annotations are strings here (`from __future__ import annotations`).
        if str(wire_field.type) not in ("float", "float | None"):
            raise TypeError(f"ThalexTicker.{wire_field.name} is not a number field")
        name = variable[wire_field.name] = f"v{index}"
        key = wire_field.name
        if wire_field.default is attrs.NOTHING:
            lines += [
                f"    {name} = value[{key!r}]",
                f"    if type({name}) is not float:",
                f"        {name} = number({name})",
            ]
        else:
            lines += [
                f"    {name} = value.get({key!r})",
                f"    if {name} is not None and type({name}) is not float:",
                f"        {name} = number({name})",
            ]
    copied = dict(to_domain.TICKER_COPIED_FIELDS)
    arguments = []
    for domain_field in attrs.fields_dict(Ticker).values():
        if domain_field.name == "instrument_name":
            arguments.append("instrument_name")
        elif domain_field.name == "time_ns":
            arguments.append(f"seconds_to_ns({variable[to_domain.TICKER_TIME_FIELD]})")
        else:
            arguments.append(variable[copied[domain_field.name]])
    lines.append(f"    return Ticker({', '.join(arguments)})")
    namespace: dict[str, object] = {
        "Ticker": Ticker,
        "number": number,
        "seconds_to_ns": to_domain.seconds_to_ns,
    }
    exec("\n".join(lines), namespace)  # trusted source built above from class fields
    return cast("Callable[[object, str], Ticker]", namespace["ticker_to_domain"])


ticker_to_domain = _compile_ticker_to_domain()
"""A `ticker.*` notification object -> domain Ticker of the named instrument (lenient keys)."""


def _level_to_domain(value: object, instrument: Instrument) -> BookLevel:
    if type(value) is not list or len(value) != 3:
        raise TypeError("a book level is [price, amount, outright_amount]")
    price, amount, outright = value
    if type(outright) is not float:
        number(outright)  # checked like the generic path, though the domain drops it
    return BookLevel(
        instrument.price_to_ticks(price if type(price) is float else number(price)),
        instrument.amount_to_lots(amount if type(amount) is float else number(amount)),
    )


def _levels_to_domain(value: object, instrument: Instrument) -> tuple[BookLevel, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise TypeError("book changes are an array")
    return tuple([_level_to_domain(level, instrument) for level in value])


def book_to_domain(value: object, instrument: Instrument, *, snapshot: bool) -> BookUpdate:
    """A `book.*` notification object -> domain BookUpdate (lenient keys).

    Raises like `book_payload` for a bad payload and OffGridError (from the instrument) for an
    off-grid price or amount.
    """
    if type(value) is not dict:
        raise TypeError("a book notification is a JSON object")
    trades = value.get("trades")
    if trades is not None and type(trades) is not list:
        raise TypeError("book trades are an array")
    time_s = number(value["time"])
    optional_number(value.get("total_bid_amount"))
    optional_number(value.get("total_ask_amount"))
    name = instrument.name
    return BookUpdate(
        name,
        _levels_to_domain(value.get("bid_changes"), instrument),
        _levels_to_domain(value.get("ask_changes"), instrument),
        tuple([to_domain.book_trade_from_wire(book_trade(trade), instrument) for trade in trades])
        if trades
        else (),
        snapshot,
        to_domain.seconds_to_ns(time_s),
    )
