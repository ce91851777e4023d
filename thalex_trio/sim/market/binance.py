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
skipped (counted in `skipped_lines`).
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
_MAX_BUFFERED_DIFFS = 10_000  # diffs kept while waiting for the snapshot (oldest dropped)
_US_LOCAL_TS_BELOW = 10**17  # a local timestamp below this is in microseconds (2023 files)

Json = dict[str, object]


@define
class _Columns:
    kind: list[int] = field(factory=list)
    side: list[int] = field(factory=list)
    flags: list[int] = field(factory=list)
    ts: list[int] = field(factory=list)
    price: list[int] = field(factory=list)
    lots: list[int] = field(factory=list)
    value: list[float] = field(factory=list)

    def add(self, kind: int, side: int, ts: int, price: int, lots: int, value: float = 0.0) -> None:
        self.kind.append(kind)
        self.side.append(side)
        self.flags.append(0)
        self.ts.append(ts)
        self.price.append(price)
        self.lots.append(lots)
        self.value.append(value)

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
        out["price_ticks"] = self.price
        out["amount_lots"] = self.lots
        out["value"] = self.value
        for column in (self.kind, self.side, self.flags, self.ts, self.price, self.lots):
            column.clear()
        self.value.clear()
        return out


class BinanceReplay:
    """Converts Binance capture lines into event chunks; counters describe what was seen.

    `tick_size` and `lot_size` map Binance prices and quantities to ticks and lots (0.1 and
    0.001 for USD-M BTCUSDT, 0.1 and 1 for COIN-M BTCUSD_PERP).
    """

    def __init__(
        self,
        tick_size: float,
        lot_size: float,
        *,
        feed_latency_ns: int = 0,
        chunk_events: int = 65_536,
    ) -> None:
        self._inv_tick = 1.0 / tick_size
        self._inv_lot = 1.0 / lot_size
        self._feed_latency_ns = feed_latency_ns
        self._chunk_events = chunk_events
        self._cols = _Columns()
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

    # -- public ------------------------------------------------------------------------------

    def read_files(self, paths: Iterable[Path | str]) -> Iterator[Events]:
        """Event chunks from gzip captures read in order as one stream (bounded memory)."""
        for path in paths:
            with gzip.open(path, "rb") as lines:
                yield from self._convert(lines)
        yield from self._drain()

    def read_lines(self, lines: Iterable[bytes]) -> Iterator[Events]:
        """Event chunks from capture lines (`<local_ts> <json>`)."""
        yield from self._convert(lines)
        yield from self._drain()

    # -- conversion --------------------------------------------------------------------------

    def _convert(self, lines: Iterable[bytes]) -> Iterator[Events]:
        for line in lines:
            if not line.strip():
                continue
            space = line.index(b" ")
            if int(line[:space]) < _US_LOCAL_TS_BELOW:
                self.microsecond_local_ts = True
            msg = orjson.loads(line[space + 1 :])
            self._message(msg)
            if len(self._cols) >= self._chunk_events:
                yield self._cols.flush(self._feed_latency_ns)

    def _drain(self) -> Iterator[Events]:
        if len(self._cols):
            yield self._cols.flush(self._feed_latency_ns)

    def _time(self, ms: object) -> int:
        ts = max(int(str(ms)) * _MS_NS, self._last_ts_ns)
        self._last_ts_ns = ts
        return ts

    def _message(self, msg: Json) -> None:
        self.messages += 1
        data = msg.get("data")
        if data is None:
            if "lastUpdateId" in msg:
                self._snapshot(msg)
            else:
                self.skipped_lines += 1
            return
        assert isinstance(data, dict)
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
                self._cols.add(MARK_EVENT, 0, ts, 0, 0, float(str(data["p"])))
                self._cols.add(INDEX_EVENT, 0, ts, 0, 0, float(str(data["i"])))
                self._cols.add(FUNDING_RATE_EVENT, 0, ts, 0, 0, float(str(data["r"])))
                self._cols.end_message()
        else:
            self.skipped_lines += 1

    def _level(self, data: Json) -> tuple[int, int]:
        return (
            round(float(str(data["p"])) * self._inv_tick),
            round(float(str(data["q"])) * self._inv_lot),
        )

    def _snapshot(self, msg: Json) -> None:
        self.snapshots += 1
        last_id = int(str(msg["lastUpdateId"]))
        ts = self._time(msg["T"])
        cols = self._cols
        cols.add(DEPTH_CLEAR_EVENT, 0, ts, 0, 0)
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
        inv_tick, inv_lot, add = self._inv_tick, self._inv_lot, self._cols.add
        for price, qty in levels:
            add(kind, side, ts, round(float(price) * inv_tick), round(float(qty) * inv_lot))

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
