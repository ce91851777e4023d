"""The fused bytes -> domain path agrees with `decode_frame` + `to_domain` on everything.

Agreement means: the same domain value for a good frame, and for a bad one the same exception
type (WireDecodeError of the same kind and detail, or OffGridError), so the reader counts and
skips exactly the frames it skipped before.
"""

from __future__ import annotations

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.thalex import codec_hot, to_domain
from thalex_trio.thalex.channels import ChannelKind
from thalex_trio.thalex.codec import ThalexCodec, WireDecodeError
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.wire_market import ThalexBookPayload, ThalexTicker

from .test_spec import PERP, patched_example

CODEC = ThalexCodec()
FUTURE = attrs.evolve(PERP, name="BTC-30MAY25")
"""The spec's ticker example is of this future; same grids as PERP."""
INSTRUMENTS = {PERP.name: PERP, FUTURE.name: FUTURE}
TICKER_FIELDS = [field.name for field in attrs.fields(ThalexTicker)]


def generic(frame: bytes, instruments: dict[str, Instrument] = INSTRUMENTS) -> object:
    """What the reader produced before: decode_frame, then to_domain for hot channels."""
    note = CODEC.decode_frame(frame)
    if not isinstance(note, ThalexNotification) or note.channel.subject not in instruments:
        return note
    instrument = instruments[note.channel.subject]
    if isinstance(note.payload, ThalexTicker):
        return to_domain.ticker_from_wire(note.payload, instrument)
    if isinstance(note.payload, ThalexBookPayload):
        return to_domain.book_from_wire(note.payload, instrument, snapshot=note.snapshot)
    return note


def outcome(decode: object, frame: bytes) -> tuple[str, object]:
    assert callable(decode)
    try:
        return ("ok", decode(frame))
    except WireDecodeError as exc:
        return ("wire", (exc.kind, exc.detail))
    except (ValueError, ArithmeticError) as exc:  # OffGridError; a time too large for ns
        return (type(exc).__name__, str(exc))


def assert_agree(frame: bytes) -> None:
    fused = outcome(lambda f: CODEC.decode_market_frame(f, INSTRUMENTS), frame)
    assert fused == outcome(generic, frame)
    if fused[0] == "ok":  # equal values, and floats stay floats as the converter makes them
        assert repr(fused[1]) == repr(outcome(generic, frame)[1])


@pytest.mark.parametrize(
    "kind", [ChannelKind.TICKER, ChannelKind.BOOK, ChannelKind.LWT, ChannelKind.SESSION_ORDERS]
)
@pytest.mark.parametrize("snapshot", [None, False, True, 1])
def test_spec_examples_agree(kind: ChannelKind, snapshot: object) -> None:
    example = patched_example(kind)
    if snapshot is not None:
        example["snapshot"] = snapshot
    assert_agree(orjson.dumps(example))


def test_fused_path_gives_domain_values() -> None:
    ticker = CODEC.decode_market_frame(
        orjson.dumps(patched_example(ChannelKind.TICKER)), INSTRUMENTS
    )
    assert type(ticker).__name__ == "Ticker"
    book = CODEC.decode_market_frame(orjson.dumps(patched_example(ChannelKind.BOOK)), INSTRUMENTS)
    assert type(book).__name__ == "BookUpdate"
    unknown = CODEC.decode_market_frame(orjson.dumps(patched_example(ChannelKind.TICKER)), {})
    assert isinstance(unknown, ThalexNotification)


def test_ticker_keys_are_the_converters() -> None:
    # The generated decoder reads ThalexTicker's field names as wire keys: the converter must
    # not rename any of them.
    full = ThalexTicker(*[float(i) for i in range(len(TICKER_FIELDS))])
    unstructured = ThalexCodec(strict=True).unstructure(full)
    assert isinstance(unstructured, dict)
    assert sorted(unstructured) == sorted(TICKER_FIELDS)
    assert codec_hot.ticker_to_domain.__name__ == "ticker_to_domain"


def _frame(channel: str, body: object, snapshot: object = None) -> bytes:
    frame: dict[str, object] = {"channel_name": channel, "notification": body}
    if snapshot is not None:
        frame["snapshot"] = snapshot
    return orjson.dumps(frame)


times = st.floats(0.0, 4e9)

numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-(2**53), 2**53),
    st.sampled_from([0.5, 1, 47240, 47240.5, 0.001, 1e-9]),
)
values = st.one_of(numbers, st.none(), st.booleans(), st.text(max_size=3), st.just([1.0]))


@st.composite
def ticker_bodies(draw: st.DrawFn) -> object:
    body: dict[str, object] = {}
    for name in TICKER_FIELDS:
        presence = draw(st.sampled_from(["number", "number", "absent", "any"]))
        if presence == "number":
            body[name] = draw(numbers)
        elif presence == "any":
            body[name] = draw(values)
    if draw(st.booleans()):
        body["unknown_key"] = draw(values)
    return draw(st.one_of(st.just(body), st.just(body), values))


@given(ticker_bodies(), st.sampled_from([None, True, False, "yes"]))
def test_hypothesis_tickers_agree(body: object, snapshot: object) -> None:
    assert_agree(_frame("ticker.BTC-PERPETUAL.100ms", body, snapshot))


grid_numbers = st.one_of(
    st.integers(0, 10**6).map(lambda ticks: ticks * 0.5),
    st.integers(0, 10**6).map(lambda lots: lots / 1000),
    numbers,
)
level_values = st.one_of(grid_numbers, values)
levels = st.lists(
    st.one_of(
        st.tuples(grid_numbers, grid_numbers, grid_numbers).map(list),
        st.lists(level_values, max_size=4),
        values,
    ),
    max_size=4,
)
trades = st.lists(
    st.one_of(
        st.tuples(
            grid_numbers,
            grid_numbers,
            st.sampled_from(["buy", "sell", "hold", 1]),
            numbers,
            st.one_of(st.booleans(), values),
        ).map(list),
        values,
    ),
    max_size=3,
)


@st.composite
def book_bodies(draw: st.DrawFn) -> object:
    body: dict[str, object] = {}
    for key, strategy in [
        ("time", numbers),
        ("trades", st.one_of(trades, values)),
        ("bid_changes", st.one_of(levels, values)),
        ("ask_changes", st.one_of(levels, values)),
        ("total_bid_amount", values),
        ("total_ask_amount", values),
    ]:
        if draw(st.integers(0, 5)):
            body[key] = draw(strategy)
    return draw(st.one_of(st.just(body), st.just(body), values))


@given(book_bodies(), st.sampled_from([None, True, False, 0]))
def test_hypothesis_books_agree(body: object, snapshot: object) -> None:
    assert_agree(_frame("book.BTC-PERPETUAL.none.10.100ms", body, snapshot))


def test_off_grid_book_raises_like_to_domain() -> None:
    body = {"time": 1.0, "bid_changes": [[10.25, 1, 1]]}
    frame = _frame("book.BTC-PERPETUAL.none.10.100ms", body)
    assert outcome(generic, frame)[0] == "OffGridError"
    assert_agree(frame)


def test_strict_codec_takes_the_generic_path() -> None:
    strict = ThalexCodec(strict=True)
    frame = orjson.dumps(patched_example(ChannelKind.TICKER))
    assert isinstance(strict.decode_market_frame(frame, INSTRUMENTS), ThalexNotification)


def test_other_instrument_grid() -> None:
    option = Instrument("X", InstrumentKind.PERPETUAL, "BTCUSD", 5.0, 0.1, 0.1)
    frame = _frame("book.X.none.10.100ms", {"time": 2.0, "asks": 1, "ask_changes": [[15, 0.3, 0]]})
    fused = CODEC.decode_market_frame(frame, {"X": option})
    assert fused == generic(frame, {"X": option})
    assert type(fused).__name__ == "BookUpdate"


@st.composite
def valid_ticker_bodies(draw: st.DrawFn) -> dict[str, object]:
    body: dict[str, object] = {}
    for field in attrs.fields(ThalexTicker):
        if field.name == "mark_timestamp":  # valid means a real time; see the range test below
            body[field.name] = draw(times)
        elif field.default is attrs.NOTHING:
            body[field.name] = draw(numbers)
        elif draw(st.booleans()):
            body[field.name] = draw(st.one_of(numbers, st.none()))
    return body


@given(valid_ticker_bodies())
def test_hypothesis_valid_tickers_decode_alike(body: dict[str, object]) -> None:
    frame = _frame("ticker.BTC-PERPETUAL.100ms", body)
    assert outcome(generic, frame)[0] == "ok"
    assert_agree(frame)


on_grid = st.integers(0, 10**6).map(lambda n: n * 0.5)
valid_levels = st.lists(st.tuples(on_grid, on_grid, numbers).map(list), max_size=4)


@given(
    times,
    st.lists(
        st.tuples(on_grid, on_grid, st.sampled_from(["buy", "sell"]), times, st.booleans()).map(
            list
        ),
        max_size=3,
    ),
    valid_levels,
    valid_levels,
    st.booleans(),
)
def test_hypothesis_valid_books_decode_alike(
    time_s: float, book_trades: list[object], bids: list[object], asks: list[object], snap: bool
) -> None:
    body = {"time": time_s, "trades": book_trades, "bid_changes": bids, "ask_changes": asks}
    frame = _frame("book.BTC-PERPETUAL.none.10.100ms", body, snap)
    assert outcome(generic, frame)[0] == "ok"
    assert_agree(frame)


@pytest.mark.parametrize("stamp", [1e300, -1e300, 1.7976931348623157e308])
def test_a_timestamp_out_of_range_is_a_bad_value_on_both_paths(stamp: float) -> None:
    body = {"mark_price": 1.0, "mark_timestamp": stamp, "delta": 1.0, "index": 1.0}
    frame = _frame("ticker.BTC-PERPETUAL.100ms", body)
    assert outcome(generic, frame)[0] == "ValueError"
    assert_agree(frame)
