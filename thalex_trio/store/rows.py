"""Events as COPY lines: one table per event type, one line of COPY text format per event.

Each table is declared once, below, as its columns in order: the column's name, the Python
expression that reads its value from the event, and how the value is written (`Kind`). From
that declaration the module compiles two functions per table, as attrs and dataclasses
compile theirs:

* `line(event, sink_id, seq)`: the event's line in PostgreSQL's COPY text format, built by
  one f-string with no call or loop per field. It runs on the event loop at every `emit`
  (see sink.py), so that the writer's worker thread only joins lines and hands bytes to
  libpq: Python work in that thread would hold the GIL the quote loop needs.
* `values(event, sink_id, seq)`: the same columns as a tuple of plain values (enums as their
  value, JSON documents as text): what the tests compare the database with.

`copy_line(values)` is the generic (slow) formatter the compiled `line` functions agree with;
it also converts rows of journals written as values by earlier versions.

Execution rows start with `(sink_id, seq)`, the id the sink gave the event, which the tables
hold unique so that a replayed row is recognised. Market tables ignore both arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import cast

import orjson
from attrs import field, frozen

from thalex_trio.domain.events import (
    CalibrationResult,
    EventClass,
    FeeEvent,
    FillEvent,
    IndexPrint,
    InstrumentInfo,
    OrderEvent,
    PositionSnapshot,
    QuoteDecision,
    RiskEvent,
    RpcErrorEvent,
    RunStarted,
    RunStopped,
    StoreEvent,
    TickerSnapshot,
    TopOfBookSnapshot,
    TradePrint,
    TradingStateChange,
)

Value = int | float | str | None
Row = tuple[Value, ...]
LineBuilder = Callable[[StoreEvent, int | str, int], str]
"""`(event, sink_id, seq) -> COPY line`, newline included. `sink_id` may come as its decimal
text: the sink formats its 63-bit id once, where each line would spend longer on it than on
any other field."""
ValuesBuilder = Callable[[StoreEvent, int, int], Row]
"""`(event, sink_id, seq) -> the line's values`."""

NULL = "\\N"
"""COPY text format's NULL."""

# COPY text format gives a meaning to these four characters; every other one stands for itself.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def escape_text(value: str) -> str:
    """`value` as a COPY text field: backslash, tab, newline and CR escaped.

    PostgreSQL text holds neither NUL nor lone surrogates (they are not UTF-8): they become
    U+FFFD and `?`, so that one odd string cannot fail a whole batch of execution rows.
    """
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value.encode("utf-8", "replace").decode("utf-8").translate(_ESCAPES)


def copy_line(values: Row) -> str:
    """The COPY text line of `values`: None as NULL, text escaped, numbers as `str` has them."""
    fields = [
        NULL if v is None else escape_text(v) if isinstance(v, str) else str(v) for v in values
    ]
    return "\t".join(fields) + "\n"


def line_seq(line: str) -> int:
    """The `seq` of an execution table's line (its second field)."""
    return int(line.split("\t", 2)[1])


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


class Kind(enum.Enum):
    """How a column's value is written."""

    NUMBER = "number"
    """An int or float, written as `str` has it (a float's shortest repr)."""
    TEXT = "text"
    """A str, escaped when it holds a character COPY gives a meaning to."""
    LABEL = "label"
    """A str of a small set repeated row after row (a run id, an instrument name): written as
    TEXT, its escaped form remembered so that each is checked once."""
    ENUM = "enum"
    """A member of one of the domain's enums, written as its value."""
    JSON = "json"
    """Any value orjson encodes, written as the JSON document (then escaped as text)."""


@frozen
class Column:
    """One column: its name, the expression giving its value, and how the value is written.

    `source` is a Python expression over `event`, `sink_id`, `seq` and the names the table's
    `prelude` binds. An `optional` column may be None (NULL).
    """

    name: str
    source: str
    kind: Kind = Kind.NUMBER
    optional: bool = False


# Templates over `@`, a local holding the column's value (evaluated once). Text is escaped
# only when it has to be: `isprintable` is False for tab, newline, CR, NUL and surrogates,
# so with the backslash test every string needing work goes to `escape_text` (and a few
# harmless ones, which it returns unchanged).
_FIELD: dict[Kind, str] = {
    Kind.NUMBER: "@",
    Kind.TEXT: "@ if @.isprintable() and _BACKSLASH not in @ else _escape_text(@)",
    Kind.LABEL: "_LABELS.get(@) or _label(@)",
    # `_value_` is the member's plain attribute; `.value` is a descriptor call and a dict keyed
    # by members hashes them in Python (Enum.__hash__): several times slower, at every emit.
    Kind.ENUM: "@._value_",
    Kind.JSON: "_escape_text(_json_text(@))",
}
_VALUE_OF: dict[Kind, str] = {
    Kind.NUMBER: "@",
    Kind.TEXT: "@",
    Kind.LABEL: "@",
    Kind.ENUM: "@._value_",
    Kind.JSON: "_json_text(@)",
}

LABELS_KEPT = 4096
"""Escaped labels remembered at most (beyond, a new label is escaped every time)."""
_LABELS: dict[str, str] = {}


def _label(value: str) -> str:
    """`value` escaped as text, remembered for the next rows while there is room."""
    escaped = escape_text(value)
    if len(_LABELS) < LABELS_KEPT:
        _LABELS[value] = escaped
    return escaped


_NAMESPACE: dict[str, object] = {
    "_NULL": NULL,
    "_BACKSLASH": "\\",
    "_escape_text": escape_text,
    "_json_text": _json_text,
    "_LABELS": _LABELS,
    "_label": _label,
}


def _function_source(name: str, prelude: tuple[str, ...], columns: tuple[Column, ...]) -> str:
    """`def name(event, sink_id, seq)` binding the prelude and each column's value to `v<i>`;
    the caller appends the return statement."""
    lines = [f"def {name}(event, sink_id, seq):"]
    lines += [f"    {statement}" for statement in prelude]
    lines += [f"    v{i} = {column.source}" for i, column in enumerate(columns)]
    return "\n".join(lines)


def _line_source(prelude: tuple[str, ...], columns: tuple[Column, ...]) -> str:
    fields = []
    for i, column in enumerate(columns):
        expression = _FIELD[column.kind]
        if column.optional:
            expression = f"_NULL if @ is None else {expression}"
        fields.append("{" + expression.replace("@", f"v{i}") + "}")
    body = "\\t".join(fields)
    return _function_source("line", prelude, columns) + f'\n    return f"{body}\\n"\n'


def _values_source(prelude: tuple[str, ...], columns: tuple[Column, ...]) -> str:
    values = []
    for i, column in enumerate(columns):
        expression = _VALUE_OF[column.kind]
        if column.optional and expression != "@":
            expression = f"None if @ is None else {expression}"
        values.append(expression.replace("@", f"v{i}"))
    return _function_source("values", prelude, columns) + f"\n    return ({', '.join(values)},)\n"


def _compile(source: str, name: str, table: str) -> object:
    namespace = dict(_NAMESPACE)
    exec(compile(source, f"<{table}.{name}>", "exec"), namespace)  # our own source, built above
    return namespace[name]


@frozen
class Table:
    """A destination table: the event type whose rows it holds, and its columns in order.

    `prelude` holds assignments run before the columns are read (`fill = event.fill`), so a
    nested object is looked up once. `line` and `values` are compiled from the columns.
    """

    name: str
    event_type: type[StoreEvent]
    columns: tuple[Column, ...]
    prelude: tuple[str, ...] = ()
    line: LineBuilder = field(init=False, repr=False, eq=False)
    values: ValuesBuilder = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        line = _compile(_line_source(self.prelude, self.columns), "line", self.name)
        values = _compile(_values_source(self.prelude, self.columns), "values", self.name)
        # A frozen attrs class sets its derived fields through object.__setattr__.
        object.__setattr__(self, "line", cast("LineBuilder", line))
        object.__setattr__(self, "values", cast("ValuesBuilder", values))

    @property
    def execution(self) -> bool:
        """True for execution events: never dropped, keyed by `(sink_id, seq)`."""
        return self.event_type.KIND is EventClass.EXECUTION

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns' names, in line order."""
        return tuple(c.name for c in self.columns)


def _text(name: str, source: str, *, optional: bool = False) -> Column:
    return Column(name, source, Kind.TEXT, optional=optional)


def _label_column(name: str, source: str) -> Column:
    return Column(name, source, Kind.LABEL)


def _number(name: str, source: str, *, optional: bool = False) -> Column:
    return Column(name, source, Kind.NUMBER, optional=optional)


def _enum(name: str, source: str, *, optional: bool = False) -> Column:
    return Column(name, source, Kind.ENUM, optional=optional)


_EXEC_ID = (_number("sink_id", "sink_id"), _number("seq", "seq"))
_RUN_TIME = (_label_column("run_id", "event.run_id"), _number("local_ns", "event.local_ns"))
_EXECUTION_HEAD = (*_EXEC_ID, *_RUN_TIME)
_OPTIONAL_FLOATS = (
    "best_bid_price",
    "best_bid_amount",
    "best_ask_price",
    "best_ask_amount",
    "last_price",
    "funding_rate",
    "funding_mark",
    "iv",
    "delta",
    "forward",
)
_LADDER_JSON = "[[q.price_ticks, q.amount_lots] for q in event.ladder.{}]"

TABLE_LIST: tuple[Table, ...] = (
    Table(
        "runs",
        RunStarted,
        (
            *_EXECUTION_HEAD,
            _text("mode", "event.mode"),
            _text("version", "event.version"),
            _text("network", "event.network"),
            _text("config", "event.config_json"),
        ),
    ),
    Table(
        "run_stops",
        RunStopped,
        (
            *_EXECUTION_HEAD,
            _text("exit_reason", "event.exit_reason"),
            _number("exit_code", "event.exit_code"),
        ),
    ),
    Table(
        "instruments",
        InstrumentInfo,
        (
            *_EXECUTION_HEAD,
            _label_column("instrument", "event.instrument_name"),
            _number("tick_size", "event.tick_size"),
            _number("volume_tick_size", "event.volume_tick_size"),
        ),
    ),
    Table(
        "top_of_book",
        TopOfBookSnapshot,
        (
            *_RUN_TIME,
            _number("exchange_ns", "book.time_ns"),
            _label_column("instrument", "book.instrument_name"),
            _number("bid_ticks", "None if bid is None else bid.price_ticks", optional=True),
            _number("bid_lots", "None if bid is None else bid.amount_lots", optional=True),
            _number("ask_ticks", "None if ask is None else ask.price_ticks", optional=True),
            _number("ask_lots", "None if ask is None else ask.amount_lots", optional=True),
        ),
        prelude=("book = event.book", "bid = book.bid", "ask = book.ask"),
    ),
    Table(
        "tickers",
        TickerSnapshot,
        (
            *_RUN_TIME,
            _number("exchange_ns", "ticker.time_ns"),
            _label_column("instrument", "ticker.instrument_name"),
            _number("mark_price", "ticker.mark_price"),
            _number("index_price", "ticker.index_price"),
            *(_number(name, f"ticker.{name}", optional=True) for name in _OPTIONAL_FLOATS),
        ),
        prelude=("ticker = event.ticker",),
    ),
    Table(
        "trades",
        TradePrint,
        (
            *_RUN_TIME,
            _number("exchange_ns", "trade.time_ns"),
            _label_column("instrument", "trade.instrument_name"),
            _number("price_ticks", "trade.price_ticks"),
            _number("amount_lots", "trade.amount_lots"),
            _enum("aggressor", "trade.aggressor"),
        ),
        prelude=("trade = event.trade",),
    ),
    Table(
        "index_prices",
        IndexPrint,
        (
            *_RUN_TIME,
            _number("exchange_ns", "event.index.time_ns"),
            _label_column("index_name", "event.index.index_name"),
            _number("price", "event.index.price"),
        ),
    ),
    Table(
        "quote_decisions",
        QuoteDecision,
        (
            *_RUN_TIME,
            _number("exchange_ns", "event.exchange_ns", optional=True),
            _label_column("instrument", "event.ladder.instrument_name"),
            _number("fair_ticks", "event.fair_ticks"),
            _number("reservation_ticks", "event.reservation_ticks"),
            _number("sigma", "event.sigma", optional=True),
            _text("regime", "event.regime", optional=True),
            Column("bids", _LADDER_JSON.format("bids"), Kind.JSON),
            Column("asks", _LADDER_JSON.format("asks"), Kind.JSON),
        ),
    ),
    Table(
        "order_events",
        OrderEvent,
        (
            *_EXECUTION_HEAD,
            _number("exchange_ns", "event.exchange_ns", optional=True),
            _label_column("instrument", "event.instrument_name"),
            _number("client_order_id", "event.client_order_id"),
            _text("exchange_order_id", "event.exchange_order_id", optional=True),
            _enum("side", "event.side"),
            _enum("state", "event.state"),
            _enum("status", "event.status", optional=True),
            _enum("change_reason", "event.change_reason", optional=True),
            _enum("delete_reason", "event.delete_reason", optional=True),
            _number("price_ticks", "event.price_ticks"),
            _number("amount_lots", "event.amount_lots"),
            _number("filled_lots", "event.filled_lots"),
            _number("reject_code", "event.reject_code", optional=True),
        ),
    ),
    Table(
        "fills",
        FillEvent,
        (
            *_EXECUTION_HEAD,
            _number("exchange_ns", "fill.time_ns"),
            _label_column("instrument", "fill.instrument_name"),
            _text("trade_id", "fill.trade_id"),
            _number("client_order_id", "fill.client_order_id", optional=True),
            _text("exchange_order_id", "fill.exchange_order_id", optional=True),
            _enum("side", "fill.side"),
            _number("price_ticks", "fill.price_ticks"),
            _number("amount_lots", "fill.amount_lots"),
            _enum("liquidity", "fill.liquidity"),
            _number("fee", "fill.fee"),
            _number("fair_ticks", "event.fair_ticks", optional=True),
            _number("level", "event.level", optional=True),
        ),
        prelude=("fill = event.fill",),
    ),
    Table(
        "fill_fees",
        FeeEvent,
        (
            *_EXECUTION_HEAD,
            _label_column("instrument", "event.instrument_name"),
            _text("trade_id", "event.trade_id"),
            _number("fee_change", "event.fee_change"),
        ),
    ),
    Table(
        "rpc_errors",
        RpcErrorEvent,
        (
            *_EXECUTION_HEAD,
            _label_column("method", "event.method"),
            _number("code", "event.code"),
            _text("message", "event.message"),
            _number("request_id", "event.request_id", optional=True),
        ),
    ),
    Table(
        "position_snapshots",
        PositionSnapshot,
        (
            *_EXECUTION_HEAD,
            _label_column("instrument", "event.instrument_name"),
            *(
                _number(name, f"event.{name}")
                for name in (
                    "size_lots",
                    "avg_entry_ticks",
                    "realised",
                    "unrealised",
                    "fees",
                    "funding",
                    "mark_price",
                )
            ),
        ),
    ),
    Table(
        "risk_events",
        RiskEvent,
        (
            *_EXECUTION_HEAD,
            _text("limit_name", "event.limit_name"),
            _number("value", "event.value"),
            _number("threshold", "event.threshold"),
            _text("verdict", "event.verdict"),
        ),
    ),
    Table(
        "trading_state_changes",
        TradingStateChange,
        (
            *_EXECUTION_HEAD,
            _text("previous", "event.previous"),
            _text("current", "event.current"),
            _text("reason", "event.reason"),
        ),
    ),
    Table(
        "calibrations",
        CalibrationResult,
        (
            *_EXECUTION_HEAD,
            _label_column("instrument", "event.instrument_name"),
            _text("model", "event.model"),
            Column("params", "dict(event.params)", Kind.JSON),
            Column("goodness_of_fit", "dict(event.goodness_of_fit)", Kind.JSON),
            _number("sample_count", "event.sample_count"),
        ),
    ),
)
"""Every destination table, one per event type."""

TABLES: dict[str, Table] = {t.name: t for t in TABLE_LIST}
"""Every destination table by name."""

TABLE_OF_TYPE: dict[type, Table] = {t.event_type: t for t in TABLE_LIST}
"""The destination table of each event type."""

ROUTES: dict[type, tuple[str, bool, LineBuilder]] = {
    t.event_type: (t.name, t.execution, t.line) for t in TABLE_LIST
}
"""(table name, is execution, line builder) by exact event type, so that `emit` needs one
dict probe and no attribute lookups."""


def table_of(event: StoreEvent) -> Table:
    """The table `event` is written to."""
    return TABLE_OF_TYPE[type(event)]
