"""COPY lines compiled from the table declarations (no database): they agree with the
reference formatter, their escaping reverses exactly, and every column's kind and
nullability match the event field it reads."""

from __future__ import annotations

import enum
import types
import typing

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from tests.store.events_factory import INSTRUMENT, T0_NS, every_event
from thalex_trio.domain.enums import Liquidity, Side
from thalex_trio.domain.events import (
    CalibrationResult,
    FillEvent,
    RiskEvent,
    RpcErrorEvent,
    RunId,
    StoreEvent,
)
from thalex_trio.domain.fill import Fill
from thalex_trio.domain.ids import ExchangeOrderId, TradeId
from thalex_trio.store import rows
from thalex_trio.store.rows import NULL, TABLE_LIST, Kind, Table, copy_line, line_seq, table_of

if typing.TYPE_CHECKING:
    import pytest

_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        out.append(_UNESCAPE[next(chars)] if char == "\\" else char)
    return "".join(out)


def parse_copy_line(line: str) -> list[str | None]:
    """Fields of a COPY text line as PostgreSQL reads them (before typing them)."""
    assert line.endswith("\n")
    assert "\n" not in line[:-1]
    assert "\r" not in line
    return [None if field == NULL else _unescape(field) for field in line[:-1].split("\t")]


def _stored(text: str) -> str:
    """What PostgreSQL holds for `text`: NUL and lone surrogates cannot be stored as UTF-8."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _as_text(value: object) -> str | None:
    return None if value is None else _stored(value) if isinstance(value, str) else str(value)


def _check(event: StoreEvent) -> None:
    table = table_of(event)
    values = table.values(event, 7, 11)
    line = table.line(event, 7, 11)
    assert line == copy_line(values)
    assert table.line(event, "7", 11) == line  # the sink passes its id as text
    assert parse_copy_line(line) == [_as_text(v) for v in values]
    if table.execution:
        assert line_seq(line) == 11


def test_every_sample_event_agrees_with_the_reference_and_parses_back() -> None:
    for event in every_event(RunId("run-rows")):
        _check(event)


# Any character, lone surrogates and NUL included: a string COPY cannot take must not break
# the line (and so the batch of execution rows it is in). The characters COPY gives a meaning
# to, or PostgreSQL refuses, are drawn often.
_HOSTILE = "\\\t\n\r\x00\ud800N\x7f\u2028"
_ANY_TEXT = st.lists(
    st.sampled_from(_HOSTILE) | st.text(st.characters(codec=None, exclude_categories=())),
    max_size=6,
).map("".join)
_JSON_KEYS = st.text(st.characters(codec="utf-8"), max_size=8)  # orjson refuses surrogates


@example(run_id=_HOSTILE, method="\\N", message="a\tb\\nc", request_id=None)
@given(
    run_id=_ANY_TEXT,
    method=_ANY_TEXT,
    message=_ANY_TEXT,
    request_id=st.none() | st.integers(-(2**63), 2**63 - 1),
)
def test_any_text_is_escaped_so_that_it_parses_back(
    run_id: str, method: str, message: str, request_id: int | None
) -> None:
    _check(RpcErrorEvent(RunId(run_id), T0_NS, method, 5, message, request_id))


@given(
    trade_id=_ANY_TEXT,
    exchange_order_id=st.none() | _ANY_TEXT,
    fee=st.floats(),
    fair=st.none() | st.floats(),
    level=st.none() | st.integers(0, 100),
)
def test_optional_columns_and_any_float_parse_back(
    trade_id: str, exchange_order_id: str | None, fee: float, fair: float | None, level: int | None
) -> None:
    eoid = None if exchange_order_id is None else ExchangeOrderId(exchange_order_id)
    fill = Fill(
        TradeId(trade_id), INSTRUMENT, Side.SELL, 10, 1, Liquidity.TAKER, fee, T0_NS, None, eoid
    )
    _check(FillEvent(RunId("r"), T0_NS, fill, fair_ticks=fair, level=level))
    _check(RiskEvent(RunId("r"), T0_NS, trade_id, fee, -fee, "ok"))


@given(params=st.dictionaries(_JSON_KEYS, st.floats(allow_nan=False, allow_infinity=False)))
def test_json_columns_hold_the_document_escaped(params: dict[str, float]) -> None:
    event = CalibrationResult(RunId("r"), T0_NS, INSTRUMENT, "m", tuple(params.items()))
    _check(event)
    fields = parse_copy_line(table_of(event).line(event, 1, 2))
    assert orjson.loads(str(fields[6])) == params


def _field_type(owner: object, name: str) -> object:
    assert isinstance(owner, type)
    return typing.get_type_hints(owner)[name]


def _split_optional(annotation: object) -> tuple[object, bool]:
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        others = [a for a in args if a is not type(None)]
        assert len(others) == 1, annotation
        return others[0], len(others) < len(args)
    return annotation, False


def _kind_of(annotation: object) -> Kind:
    while hasattr(annotation, "__supertype__"):  # NewType
        annotation = annotation.__supertype__
    if annotation is str:
        return Kind.TEXT
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return Kind.ENUM
    assert annotation in (int, float), annotation
    return Kind.NUMBER


def _path_types(table: Table) -> dict[str, object]:
    """Types of the names a table's column sources may start from."""
    bound: dict[str, object] = {"event": table.event_type}
    for statement in table.prelude:
        name, source = (part.strip() for part in statement.split("="))
        head, attribute = source.split(".")
        bound[name] = _split_optional(_field_type(bound[head], attribute))[0]
    return bound


def test_column_kinds_and_nullability_match_the_event_fields() -> None:
    checked = total = 0
    for table in TABLE_LIST:
        bound = _path_types(table)
        for column in table.columns:
            total += 1
            parts = column.source.split(".")
            if column.source in ("sink_id", "seq"):
                assert (column.kind, column.optional) == (Kind.NUMBER, False)
                assert table.execution
                checked += 1
                continue
            if not all(p.isidentifier() for p in parts) or parts[0] not in bound:
                continue  # an expression (ladder JSON, a book side that may be missing)
            owner = bound[parts[0]]
            for attribute in parts[1:-1]:
                owner = _split_optional(_field_type(owner, attribute))[0]
            annotation, optional = _split_optional(_field_type(owner, parts[-1]))
            assert column.optional is optional, (table.name, column.name)
            # A label is a str written as text, its escaped form remembered.
            kind = Kind.TEXT if column.kind is Kind.LABEL else column.kind
            assert kind is _kind_of(annotation), (table.name, column.name)
            checked += 1
    assert checked >= total - 8  # only the few expression columns are left to the round trip


def test_labels_past_the_remembered_ones_are_still_escaped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Once the cache of escaped labels is full, a new label is escaped at every line.
    monkeypatch.setattr(rows, "LABELS_KEPT", len(rows._LABELS))
    label = "run\twith a tab, not seen before"
    for _ in range(2):
        _check(RpcErrorEvent(RunId(label), T0_NS, label, 5, "m", None))
    assert label not in rows._LABELS
