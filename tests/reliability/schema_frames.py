"""Server frames drawn from Thalex's openapi.json, and the ways a frame goes bad.

`payload_values(pattern)` draws notification bodies valid against the spec's schema of a channel
(the spec as `tests/thalex/spec.py` patches its known defects). `_patch` below writes down, each
with its reason, where a good frame needs more than the spec states: shapes the spec leaves to
prose, and fields the client requires although the spec marks them optional. Numbers are drawn
on the half-unit grid from 0 to 10^6, so prices and amounts fit the test instrument's tick and lot
and every timestamp converts to nanoseconds: a good frame is good for the domain too.

`bad_frames` turns a good frame into a bad one whose kind of badness is known by construction,
so a test can check that the reader counts it under the right `DecodeFailure`.
"""

from __future__ import annotations

import copy
import enum
import functools
from typing import TYPE_CHECKING, cast

import orjson
from attrs import frozen
from hypothesis import strategies as st

from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.codec import DecodeFailure

from ..thalex import spec
from ..thalex.test_spec import CHANNELS

if TYPE_CHECKING:
    from collections.abc import Mapping

Schema = dict[str, object]

_NUMBER: Schema = {"type": "number"}
_SIDE: Schema = {"type": "string", "enum": ["buy", "sell"]}


def _row(*items: Schema) -> Schema:
    return {"type": "array", "prefixItems": list(items), "minItems": len(items)}


def _properties(schema: object) -> dict[str, Schema]:
    return cast("dict[str, Schema]", cast("Schema", schema)["properties"])


def _require(schema: Schema, *names: str) -> None:
    schema["required"] = sorted({*cast("list[str]", schema.get("required", [])), *names})


def _patch(schemas: dict[str, Schema]) -> None:
    """What a good frame needs beyond the spec, each with its reason."""
    # The spec types book rows as bare arrays and gives their shape in prose: "(price, amount,
    # outright amount)" and "`[price, amount, direction, timestamp, implied_taker]`".
    book = _properties(schemas["book.<instrument>.<grouping>.<nlevels>.<delay>_payload"])
    body = book["notification"]
    levels: Schema = {"type": "array", "items": _row(_NUMBER, _NUMBER, _NUMBER)}
    trade = _row(_NUMBER, _NUMBER, _SIDE, _NUMBER, {"type": "boolean"})
    _properties(body).update(bid_changes=levels, ask_changes=levels)
    _properties(body)["trades"] = {"type": "array", "items": trade}
    # Every book example carries `time`; the client stamps the update with it.
    _require(body, "time")
    # Likewise "`[price, size, side, timestamp, instrument_name, implied_taker]`".
    recent = _properties(schemas["recent_trades.<target>.<category>_payload"])["notification"]
    recent["items"] = _row(
        _NUMBER, _NUMBER, _SIDE, _NUMBER, {"type": "string"}, {"type": "boolean"}
    )
    # Fields without which a line says nothing the client can use, where the spec marks nothing
    # required: a frame lacking them is a bad payload (the mutations check that too).
    _require(schemas["PortfolioEntry"], "instrument_name", "position")
    protection = _properties(schemas["session.mm_protection_payload"])["notification"]
    _require(cast("Schema", protection["items"]), "product", "remaining_amount")
    _require(
        cast("Schema", _properties(schemas["Instrument"])["legs"]["items"]),
        "instrument_name",
        "quantity",
    )
    # Ids and indices the spec types "number" are integers: `client_order_id` (API.md §5.1) and
    # `leg_index` (0 for single-leg orders).
    for name, fields in (
        ("OrderStatus", ("client_order_id",)),
        ("OrderFill", ("leg_index",)),
        ("Trade", ("client_order_id", "leg_index")),
    ):
        for field in fields:
            _properties(schemas[name])[field]["type"] = "integer"


@functools.cache
def _schemas() -> dict[str, Schema]:
    # type-ignore reason: the OpenAPI document is untyped JSON; a wrong shape fails the test
    schemas: dict[str, Schema] = copy.deepcopy(spec.openapi()["components"]["schemas"])  # type: ignore[index]
    _patch(schemas)
    return schemas


def _resolve(schema: Mapping[str, object]) -> Mapping[str, object]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _resolve(_schemas()[ref.rsplit("/", 1)[1]])
    return schema


# -- channels ----------------------------------------------------------------------------------

CONCRETE = {
    "<instrument>": "BTC-PERPETUAL",
    "<target>": "BTC-PERPETUAL",
    "<delay>": "100ms",
    "<grouping>": "none",
    "<nlevels>": "10",
    "<category>": "single",
    "<underlying>": "BTCUSD",
    "<expiration>": "2025-05-30",
}
"""A concrete channel name for each placeholder of a channel pattern."""


def channel_name(pattern: str) -> str:
    """The pattern with every placeholder filled in."""
    for placeholder, value in CONCRETE.items():
        pattern = pattern.replace(placeholder, value)
    return pattern


KNOWN_PATTERNS: dict[str, ChannelKind] = {pattern: kind for kind, pattern in CHANNELS.items()}
"""Channel patterns the client decodes, with their kind."""


def unknown_patterns() -> list[str]:
    """Spec channels outside the client's grammar (frames on them are unknown channels)."""
    names = (name.removesuffix("_payload") for name in _schemas() if name.endswith("_payload"))
    return sorted(name for name in names if name not in KNOWN_PATTERNS)


# -- values ------------------------------------------------------------------------------------

grid_numbers = st.integers(0, 2_000_000).map(lambda n: n / 2)
"""Numbers on the half-unit grid (a tick of 0.5 and a lot of 0.001 both hold them)."""

_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=12)


def values(schema: Mapping[str, object], depth: int = 0) -> st.SearchStrategy[object]:
    """Instances of `schema`, in the subset of JSON Schema the spec uses (built once per schema
    and depth: strategies are cheap to draw from, not to build)."""
    key = (id(schema), depth)
    cached = _BUILT.get(key)
    if cached is None:
        # The schema is kept with its strategy, so its id is never reused for another.
        cached = _BUILT[key] = (schema, _build(schema, depth))
    return cached[1]


_BUILT: dict[tuple[int, int], tuple[Mapping[str, object], st.SearchStrategy[object]]] = {}


def _build(schema: Mapping[str, object], depth: int) -> st.SearchStrategy[object]:
    schema = _resolve(schema)
    if "oneOf" in schema:
        options = cast("list[Mapping[str, object]]", schema["oneOf"])
        return st.one_of([values(option, depth) for option in options])
    if "enum" in schema:
        return st.sampled_from(cast("list[object]", schema["enum"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([values({**schema, "type": k}, depth) for k in kind])
    match kind:
        case "number":
            return grid_numbers
        case "integer":
            return st.integers(0, 1_000_000)
        case "boolean":
            return st.booleans()
        case "string":
            return _TEXT
        case "null":
            return st.none()
        case "array":
            return _arrays(schema, depth)
        case _ if "properties" in schema:
            return _objects(schema, depth)
        case _:  # untyped: the spec allows any JSON value
            return st.one_of(grid_numbers, _TEXT, st.booleans(), st.none())


def _arrays(schema: Mapping[str, object], depth: int) -> st.SearchStrategy[object]:
    prefix = cast("list[Mapping[str, object]]", schema.get("prefixItems", []))
    if prefix:
        return st.tuples(*(values(item, depth + 1) for item in prefix)).map(list)
    items = cast("Mapping[str, object]", schema.get("items", {}))
    low = cast("int", schema.get("minItems", 0))
    high = max(low, cast("int", schema.get("maxItems", 2 if depth < 2 else 1)))
    return st.lists(values(items, depth + 1), min_size=low, max_size=high)


def _objects(schema: Mapping[str, object], depth: int) -> st.SearchStrategy[object]:
    properties = cast("Mapping[str, Mapping[str, object]]", schema["properties"])
    required = set(cast("list[str]", schema.get("required", [])))
    return st.fixed_dictionaries(
        {name: values(sub, depth + 1) for name, sub in properties.items() if name in required},
        optional={
            name: values(sub, depth + 1) for name, sub in properties.items() if name not in required
        },
    )


def payload_schema(pattern: str) -> Mapping[str, object]:
    """The (patched) schema of a channel's notification envelope."""
    return _schemas()[f"{pattern}_payload"]


def payload_values(pattern: str) -> st.SearchStrategy[object]:
    """Notification bodies of `pattern`, valid against its (patched) schema."""
    properties = cast("Mapping[str, Mapping[str, object]]", payload_schema(pattern)["properties"])
    return values(properties["notification"])


def notification(pattern: str, body: object, snapshot: bool | None = None) -> dict[str, object]:
    """The frame of a notification on the concrete channel of `pattern`, as JSON."""
    frame: dict[str, object] = {"channel_name": channel_name(pattern), "notification": body}
    if snapshot is not None:
        frame["snapshot"] = snapshot
    return frame


# -- going bad ---------------------------------------------------------------------------------

NEEDED: dict[ChannelKind, dict[str, str]] = {
    ChannelKind.TICKER: {
        "mark_price": "number",
        "mark_timestamp": "number",
        "delta": "number",
        "index": "number",
    },
    ChannelKind.BOOK: {"time": "number"},
    ChannelKind.LWT: {"m": "number"},
    ChannelKind.PRICE_INDEX: {"index_name": "string", "price": "number", "timestamp": "number"},
    ChannelKind.SYSTEM: {"event": "string"},
    ChannelKind.SESSION_ORDERS: {
        "order_id": "string",
        "direction": "string",
        "amount": "number",
        "filled_amount": "number",
        "status": "string",
        "fills": "array",
        "change_reason": "string",
    },
    ChannelKind.ACCOUNT_PORTFOLIO: {"instrument_name": "string", "position": "number"},
    ChannelKind.ACCOUNT_SUMMARY: {"margin": "number", "cash": "array"},
    ChannelKind.SESSION_MM_PROTECTION: {"product": "string", "remaining_amount": "number"},
}
"""Keys the client cannot do without, with their JSON type, per channel (for array payloads,
in each item): what it reads to trade, so a frame missing one, or with one of the wrong type,
must be counted as a bad payload, never half-applied."""
NEEDED[ChannelKind.ACCOUNT_ORDERS] = NEEDED[ChannelKind.SESSION_ORDERS]
NEEDED[ChannelKind.ACCOUNT_PERSISTENT_ORDERS] = NEEDED[ChannelKind.SESSION_ORDERS]

WRONG_VALUE = {"number": "1.5", "string": 15, "boolean": "true", "array": {"x": 1}}
"""A value of another JSON type for each type (the codec never coerces)."""


class Mutation(enum.Enum):
    """Ways a good notification frame goes bad, each counted as one `DecodeFailure`."""

    TRUNCATED = "truncated"
    NOT_AN_OBJECT = "not_an_object"
    CHANNEL_NOT_A_STRING = "channel_not_a_string"
    NO_NOTIFICATION = "no_notification"
    SNAPSHOT_NOT_A_BOOLEAN = "snapshot_not_a_boolean"
    UNKNOWN_CHANNEL = "unknown_channel"
    DROPPED_FIELD = "dropped_field"
    WRONG_TYPE = "wrong_type"

    @property
    def failure(self) -> DecodeFailure:
        """How the reader must count a frame mutated this way."""
        return _FAILURES[self]


_FAILURES = {
    Mutation.TRUNCATED: DecodeFailure.NOT_JSON,
    Mutation.NOT_AN_OBJECT: DecodeFailure.BAD_ENVELOPE,
    Mutation.CHANNEL_NOT_A_STRING: DecodeFailure.BAD_ENVELOPE,
    Mutation.NO_NOTIFICATION: DecodeFailure.BAD_ENVELOPE,
    Mutation.SNAPSHOT_NOT_A_BOOLEAN: DecodeFailure.BAD_ENVELOPE,
    Mutation.UNKNOWN_CHANNEL: DecodeFailure.UNKNOWN_CHANNEL,
    Mutation.DROPPED_FIELD: DecodeFailure.BAD_PAYLOAD,
    Mutation.WRONG_TYPE: DecodeFailure.BAD_PAYLOAD,
}


@frozen
class Frame:
    """One frame as a server sends it; `bad` says how it must be counted (None: good)."""

    raw: bytes
    bad: DecodeFailure | None = None
    label: str = ""


def _target(kind: ChannelKind, body: object) -> dict[str, object] | None:
    """The object whose fields a mutation touches: the body, or the first item of a list."""
    if isinstance(body, list):
        body = body[0] if body else None
    return cast("dict[str, object]", body) if isinstance(body, dict) and NEEDED.get(kind) else None


@st.composite
def bad_frames(draw: st.DrawFn, frame: dict[str, object]) -> Frame:
    """`frame` (a good notification, as JSON) spoilt one way; the way decides how it counts."""
    kind = KNOWN_PATTERNS.get(_pattern_of(frame))
    mutations = list(Mutation)
    target = None if kind is None else _target(kind, frame["notification"])
    if target is None or not set(NEEDED[cast("ChannelKind", kind)]) & set(target):
        mutations = [m for m in mutations if m not in (Mutation.DROPPED_FIELD, Mutation.WRONG_TYPE)]
    mutation = draw(st.sampled_from(mutations))
    spoilt = copy.deepcopy(frame)
    label = mutation.value
    match mutation:
        case Mutation.TRUNCATED:
            raw = orjson.dumps(spoilt)
            return Frame(raw[: draw(st.integers(0, len(raw) - 1))], mutation.failure, label)
        case Mutation.NOT_AN_OBJECT:
            raw = orjson.dumps(draw(st.sampled_from([[spoilt], "x", 1, 2.5, None, True])))
            return Frame(raw, mutation.failure, label)
        case Mutation.CHANNEL_NOT_A_STRING:
            spoilt["channel_name"] = draw(st.sampled_from([15, ["ticker"], True]))
        case Mutation.NO_NOTIFICATION:
            del spoilt["notification"]
        case Mutation.SNAPSHOT_NOT_A_BOOLEAN:
            spoilt["snapshot"] = draw(st.sampled_from(["true", 1, 0, [True]]))
        case Mutation.UNKNOWN_CHANNEL:
            spoilt["channel_name"] = draw(
                st.one_of(
                    st.sampled_from([channel_name(p) for p in unknown_patterns()]),
                    _TEXT.map(lambda text: f"no_such_channel.{text}"),
                )
            )
        case Mutation.DROPPED_FIELD | Mutation.WRONG_TYPE:
            assert kind is not None
            victim = _target(kind, spoilt["notification"])
            assert victim is not None
            key = draw(st.sampled_from(sorted(set(NEEDED[kind]) & set(victim))))
            label = f"{label}:{key}"
            if mutation is Mutation.DROPPED_FIELD:
                del victim[key]
            else:
                victim[key] = WRONG_VALUE[NEEDED[kind][key]]
    return Frame(orjson.dumps(spoilt), mutation.failure, label)


def _pattern_of(frame: dict[str, object]) -> str:
    name = frame["channel_name"]
    for pattern in KNOWN_PATTERNS:
        if channel_name(pattern) == name:
            return pattern
    return ""


random_bytes = st.binary(max_size=64).filter(lambda raw: not _is_json(raw))
"""Bytes that are not JSON at all."""


def _is_json(raw: bytes) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return True
