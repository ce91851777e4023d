"""Replay of raw Binance perpetual captures (`../shared/data/binance-btc-perp/`) as normalised
engine events, streamed in bounded chunks.

Book sync follows `data/README.md`: depth diffs are buffered until the REST snapshot line, then
the diffs with `u >= lastUpdateId` are applied, the first of them bracketing the snapshot
(`U <= lastUpdateId <= u`) and each later one continuing the previous (`pu == previous u`).
A diff that breaks either rule is counted in `sequence_breaks` and still applied: the replay
reports a gap rather than hiding it, and the caller decides whether the run is usable.

Times come from the exchange fields (`T` for diffs and trades, `E` for mark prices), in ms,
clamped to be non-decreasing in arrival order; the collector's local timestamp (ns in 2024
files, us in the 2023 `.dat.gz` files) is only used to detect the unit and never as a time.
`local_ts_ns` is the exchange time plus a configured feed latency. bookTicker lines are
skipped (counted in `skipped_lines`). Exchange time running back by more than
`MAX_TIME_REVERSAL_S` means files given out of order: `ReplayDataError`, rather than a run
whose events all share the last good time.

One stream is one symbol: the first one met, unless given. Lines of any other symbol (the
shared folder holds BTCUSDT and BTCUSD_PERP captures side by side) are skipped and counted in
`other_symbol_lines`; a file's REST snapshot line, which names no symbol, belongs to the
symbol of the file's other lines.
"""

from __future__ import annotations

import gzip
from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import orjson
from attrs import define, field

from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    EVENT_DTYPE,
    FUNDING_RATE_EVENT,
    INDEX_EVENT,
    MARK_EVENT,
    TRADE_EVENT,
    Events,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

_MS_NS = 1_000_000
MAX_TIME_REVERSAL_S = 60.0
"""Largest step back in exchange time accepted (and clamped): streams interleave by
milliseconds, and a 2024 capture's diffs buffered before its snapshot are about a second older
than it; anything larger is a file out of order."""
_MAX_BUFFERED_DIFFS = 10_000  # diffs kept while waiting for the snapshot (oldest dropped)
_US_LOCAL_TS_BELOW = 10**17  # a local timestamp below this is in microseconds (2023 files)
_BOOK_TICKER = b"@bookTicker"
_READ_BLOCK = 1 << 22

Json = dict[str, object]


@define
class _Columns:
    """Records of the chunk being built. Prices and quantities are kept as the capture's
    decimal strings and converted to ticks and lots for the whole chunk at once in `flush`
    (numpy parses them several times faster than a Python loop)."""

    inv_tick: float
    inv_lot: float
    kind: list[int] = field(factory=list)
    side: list[int] = field(factory=list)
    flags: list[int] = field(factory=list)
    ts: list[int] = field(factory=list)
    price: list[str] = field(factory=list)
    qty: list[str] = field(factory=list)
    value: list[float] = field(factory=list)

    def add(
        self, kind: int, side: int, ts: int, price: str = "0", qty: str = "0", value: float = 0.0
    ) -> None:
        self.kind.append(kind)
        self.side.append(side)
        self.flags.append(0)
        self.ts.append(ts)
        self.price.append(price)
        self.qty.append(qty)
        self.value.append(value)

    def add_levels(self, kind: int, side: int, ts: int, levels: list[list[str]]) -> None:
        """Depth levels of one message, `[price, qty]` strings, as (kind, side) records."""
        n = len(levels)
        if not n:
            return
        prices, qtys = zip(*levels, strict=True)
        self.kind.extend([kind] * n)
        self.side.extend([side] * n)
        self.flags.extend([0] * n)
        self.ts.extend([ts] * n)
        self.price.extend(prices)
        self.qty.extend(qtys)
        self.value.extend([0.0] * n)

    def end_message(self) -> None:
        if self.flags:
            self.flags[-1] |= END_OF_MESSAGE_FLAG

    def __len__(self) -> int:
        return len(self.kind)

    def flush(self, feed_latency_ns: int) -> Events:
        out = np.zeros(len(self.kind), dtype=EVENT_DTYPE)
        out["kind"] = self.kind
        out["side"] = self.side
        out["flags"] = self.flags
        out["exch_ts_ns"] = self.ts
        out["local_ts_ns"] = np.asarray(self.ts, dtype=np.int64) + feed_latency_ns
        # Round half to even, as Python's round() of the same product.
        out["price_ticks"] = np.rint(np.asarray(self.price, dtype=np.float64) * self.inv_tick)
        out["amount_lots"] = np.rint(np.asarray(self.qty, dtype=np.float64) * self.inv_lot)
        out["value"] = self.value
        for column in (self.kind, self.side, self.flags, self.ts, self.value):
            column.clear()
        self.price.clear()
        self.qty.clear()
        return out


def _gzip_lines(path: Path | str) -> Iterator[bytes]:
    """The lines of a gzip file, decompressed in large blocks (much faster than `readline`)."""
    with gzip.open(path, "rb") as f:
        rest = b""
        while block := f.read(_READ_BLOCK):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest


def capture_symbol(path: Path | str, max_lines: int = 1_000) -> str | None:
    """The symbol (upper case) of the first line of `path` that names one, or None."""
    for number, line in enumerate(_gzip_lines(path)):
        if number >= max_lines:
            break
        _, _, body = line.partition(b" ")
        if b'"s"' not in body:
            continue
        try:
            msg = orjson.loads(body)
        except orjson.JSONDecodeError:
            continue  # the replay itself reports bad lines
        data = msg.get("data") if isinstance(msg, dict) else None
        if isinstance(data, dict) and isinstance(data.get("s"), str):
            return str(data["s"]).upper()
    return None


class ReplayDataError(ValueError):
    """Capture data that cannot be replayed as one stream."""


class BinanceReplay:
    """Converts Binance capture lines into event chunks; counters describe what was seen.

    `tick_size` and `lot_size` map Binance prices and quantities to ticks and lots (0.1 and
    0.001 for USD-M BTCUSDT, 0.1 and 1 for COIN-M BTCUSD_PERP). `symbol` picks the symbol to
    replay (case-insensitive); None takes the first one in the data (`symbol` then says which).
    """

    def __init__(
        self,
        tick_size: float,
        lot_size: float,
        *,
        symbol: str | None = None,
        feed_latency_ns: int = 0,
        chunk_events: int = 65_536,
    ) -> None:
        self._inv_tick = 1.0 / tick_size
        self._inv_lot = 1.0 / lot_size
        self._feed_latency_ns = feed_latency_ns
        self._chunk_events = chunk_events
        self._cols = _Columns(self._inv_tick, self._inv_lot)
        self._buffer: deque[Json] = deque(maxlen=_MAX_BUFFERED_DIFFS)
        self._snapshot_id: int | None = None
        self._last_u: int | None = None
        self._last_ts_ns = 0
        self.sequence_breaks = 0
        self.messages = 0
        self.snapshots = 0
        self.skipped_lines = 0
        self.stale_diffs = 0
        self.microsecond_local_ts = False
        self.symbol = None if symbol is None else symbol.upper()
        self.other_symbol_lines: dict[str, int] = {}
        self._source = "<lines>"
        self._file_symbol: str | None = None  # the symbol of the current file's lines
        self._file_snapshot: Json | None = None  # its snapshot, met before any such line

    # -- public ------------------------------------------------------------------------------

    def read_files(self, paths: Iterable[Path | str]) -> Iterator[Events]:
        """Event chunks from gzip captures read in order as one stream (bounded memory)."""
        for path in paths:
            self._start_file(str(path))
            yield from self._convert(_gzip_lines(path))
            self._end_file()
        yield from self._drain()

    def read_lines(self, lines: Iterable[bytes]) -> Iterator[Events]:
        """Event chunks from capture lines (`<local_ts> <json>`), read as one file."""
        self._start_file("<lines>")
        yield from self._convert(lines)
        self._end_file()
        yield from self._drain()

    @property
    def other_symbols(self) -> list[str]:
        """Symbols met and skipped, sorted."""
        return sorted(self.other_symbol_lines)

    # -- conversion --------------------------------------------------------------------------

    def _convert(self, lines: Iterable[bytes]) -> Iterator[Events]:
        unit_checked = False
        for line in lines:
            if not line.strip():
                continue
            space = line.index(b" ")
            if not unit_checked:  # one collector, one unit per file
                unit_checked = True
                if int(line[:space]) < _US_LOCAL_TS_BELOW:
                    self.microsecond_local_ts = True
            if _BOOK_TICKER in line:
                # Best bid/ask lines (most of a capture) repeat what the diffs say: skipped
                # without parsing them.
                self.messages += 1
                self.skipped_lines += 1
                continue
            msg = orjson.loads(line[space + 1 :])
            self._message(msg)
            if len(self._cols) >= self._chunk_events:
                yield self._cols.flush(self._feed_latency_ns)

    def _start_file(self, source: str) -> None:
        self._source = source
        self._file_symbol = None
        self._file_snapshot = None

    def _end_file(self) -> None:
        snapshot, self._file_snapshot = self._file_snapshot, None
        if snapshot is not None:  # a file with no symbol line: nothing says it is not ours
            self._snapshot(snapshot)

    def _ours(self, symbol: str) -> bool:
        """Whether a line of `symbol` belongs to the replayed stream (counting it if not)."""
        symbol = symbol.upper()
        if self.symbol is None:
            self.symbol = symbol
        if self._file_symbol is None:
            self._file_symbol = symbol
            snapshot, self._file_snapshot = self._file_snapshot, None
            if snapshot is not None and self._ours(symbol):
                self._snapshot(snapshot)
        if symbol == self.symbol:
            return True
        self.other_symbol_lines[symbol] = self.other_symbol_lines.get(symbol, 0) + 1
        return False

    def _drain(self) -> Iterator[Events]:
        if len(self._cols):
            yield self._cols.flush(self._feed_latency_ns)

    def _time(self, ms: object) -> int:
        ts = int(str(ms)) * _MS_NS
        if ts < self._last_ts_ns - MAX_TIME_REVERSAL_S * 1e9:
            back_s = (self._last_ts_ns - ts) / 1e9
            raise ReplayDataError(
                f"{self._source}: exchange time runs {back_s:.0f} s back from the data before"
                " it; give the files in time order"
            )
        ts = max(ts, self._last_ts_ns)
        self._last_ts_ns = ts
        return ts

    def _message(self, msg: Json) -> None:
        self.messages += 1
        data = msg.get("data")
        if data is None:
            if "lastUpdateId" not in msg:
                self.skipped_lines += 1
            elif self._file_symbol is None:
                self._file_snapshot = msg  # whose it is shows with the file's next line
            elif self._ours(self._file_symbol):
                self._snapshot(msg)
            return
        assert isinstance(data, dict)
        symbol = data.get("s")
        if isinstance(symbol, str) and not self._ours(symbol):
            return
        event = data.get("e")
        if event == "depthUpdate":
            self._diff(data)
        elif event == "trade":
            if self._snapshot_id is not None:
                side = -1 if data["m"] else 1  # m: the buyer was the maker, the seller hit
                self._cols.add(TRADE_EVENT, side, self._time(data["T"]), *self._level(data))
                self._cols.end_message()
        elif event == "markPriceUpdate":
            if self._snapshot_id is not None:
                ts = self._time(data["E"])
                self._cols.add(MARK_EVENT, 0, ts, value=float(str(data["p"])))
                self._cols.add(INDEX_EVENT, 0, ts, value=float(str(data["i"])))
                self._cols.add(FUNDING_RATE_EVENT, 0, ts, value=float(str(data["r"])))
                self._cols.end_message()
        else:
            self.skipped_lines += 1

    def _level(self, data: Json) -> tuple[str, str]:
        return str(data["p"]), str(data["q"])

    def _snapshot(self, msg: Json) -> None:
        self.snapshots += 1
        last_id = int(str(msg["lastUpdateId"]))
        ts = self._time(msg["T"])
        cols = self._cols
        cols.add(DEPTH_CLEAR_EVENT, 0, ts)
        self._levels(DEPTH_SNAPSHOT_EVENT, 1, ts, msg["bids"])
        self._levels(DEPTH_SNAPSHOT_EVENT, -1, ts, msg["asks"])
        cols.end_message()
        self._snapshot_id = last_id
        self._last_u = None
        buffered = list(self._buffer)
        self._buffer.clear()
        for diff in buffered:
            self._diff(diff)

    def _levels(self, kind: int, side: int, ts: int, levels: object) -> None:
        assert isinstance(levels, list)
        self._cols.add_levels(kind, side, ts, levels)

    def _diff(self, data: Json) -> None:
        if self._snapshot_id is None:
            self._buffer.append(data)
            return
        first_u, last_u = int(str(data["U"])), int(str(data["u"]))
        if self._last_u is None:
            if last_u < self._snapshot_id:
                self.stale_diffs += 1  # older than the snapshot: already in it
                return
            if first_u > self._snapshot_id:
                self.sequence_breaks += 1  # a gap between the snapshot and the first diff
        elif int(str(data["pu"])) != self._last_u:
            self.sequence_breaks += 1
        self._last_u = last_u
        ts = self._time(data["T"])
        self._levels(DEPTH_EVENT, 1, ts, data["b"])
        self._levels(DEPTH_EVENT, -1, ts, data["a"])
        self._cols.end_message()
