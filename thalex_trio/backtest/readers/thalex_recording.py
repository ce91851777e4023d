"""Our own Thalex recordings (`thalex_trio record`) as normalised engine events.

A recording line is `<local_receive_ns> <raw notification JSON>`, the same framing as the
Binance captures; files are gzip (possibly several members: each restart or rotation appends
one) or plain text. One instrument is replayed per stream:

- `book.<instrument>.*`: a `snapshot: true` message becomes a `DEPTH_CLEAR_EVENT` plus
  `DEPTH_SNAPSHOT_EVENT` levels (its `trades` are skipped: a snapshot may repeat trades from
  before a gateway restart); later messages become `DEPTH_EVENT` level changes and
  `TRADE_EVENT` prints. Deltas before the first snapshot are counted in `skipped_lines`.
- `ticker.<instrument>.*`: `MARK_EVENT`, `INDEX_EVENT` and, for perpetuals, `FUNDING_RATE_EVENT`.
- `price_index.<underlying>`: `INDEX_EVENT`.

Exchange time comes from the payload (`time`, `mark_timestamp`, `timestamp`, in seconds),
clamped to be non-decreasing in arrival order; local time is the recorded receive time,
clamped to be at least the exchange time (the two clocks differ; a negative feed latency is
impossible). Thalex book messages carry no sequence numbers, so a gap cannot be detected here;
a truncated final gzip member (a crash while writing) is counted in `truncated_files`.
"""

from __future__ import annotations

import gzip
import zlib
from typing import TYPE_CHECKING

import orjson

from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    FUNDING_RATE_EVENT,
    INDEX_EVENT,
    MARK_EVENT,
    TRADE_EVENT,
    EventRow,
    Events,
    events_from_rows,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

_S_NS = 1_000_000_000
Row = EventRow


def open_lines(path: Path) -> Iterator[bytes]:
    """Lines of a gzip or plain file; a gzip file's truncated last member ends it quietly."""
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    if not gz:
        with path.open("rb") as plain:
            yield from plain
        return
    with gzip.open(path, "rb") as lines:
        yield from lines


class ThalexRecordingReader:
    """Converts recording lines of one instrument into event chunks, with counters."""

    def __init__(
        self,
        instrument_name: str,
        tick_size: float,
        lot_size: float,
        *,
        underlying: str | None = None,
        chunk_events: int = 65_536,
    ) -> None:
        self.instrument_name = instrument_name
        self._inv_tick = 1.0 / tick_size
        self._inv_lot = 1.0 / lot_size
        self._book = f"book.{instrument_name}."
        self._ticker = f"ticker.{instrument_name}."
        self._index = None if underlying is None else f"price_index.{underlying}"
        self._chunk_events = chunk_events
        self._rows: list[Row] = []
        self._flags: list[int] = []
        self._last_exch_ns = 0
        self._last_local_ns = 0
        self._synced = False
        self.messages = 0
        self.snapshots = 0
        self.skipped_lines = 0
        self.bad_lines = 0
        self.truncated_files = 0
        self.sequence_breaks = 0  # Thalex books carry no sequence: nothing to check

    def read_files(self, paths: Iterable[Path]) -> Iterator[Events]:
        """Event chunks from recording files read in order as one stream (bounded memory)."""
        for path in paths:
            try:
                yield from self._convert(open_lines(path))
            except (EOFError, zlib.error, gzip.BadGzipFile):
                self.truncated_files += 1
        if self._rows:
            yield self._flush()

    def read_lines(self, lines: Iterable[bytes]) -> Iterator[Events]:
        """Event chunks from recording lines."""
        yield from self._convert(lines)
        if self._rows:
            yield self._flush()

    # -- conversion --------------------------------------------------------------------------

    def _convert(self, lines: Iterable[bytes]) -> Iterator[Events]:
        for line in lines:
            space = line.find(b" ")
            if space <= 0:
                if line.strip():
                    self.bad_lines += 1
                continue
            try:
                local_ns = int(line[:space])
                msg = orjson.loads(line[space + 1 :])
            except (ValueError, orjson.JSONDecodeError):
                self.bad_lines += 1
                continue
            if isinstance(msg, dict):
                self._message(msg, local_ns)
            else:
                self.bad_lines += 1
            if len(self._rows) >= self._chunk_events:
                yield self._flush()

    def _times(self, exch_s: object, local_ns: int) -> tuple[int, int]:
        exch = self._last_exch_ns
        if isinstance(exch_s, int | float):
            exch = max(round(float(exch_s) * _S_NS), exch)
        self._last_exch_ns = exch
        local = max(local_ns, exch, self._last_local_ns)
        self._last_local_ns = local
        return exch, local

    def _message(self, msg: dict[str, object], local_ns: int) -> None:
        channel = msg.get("channel_name")
        payload = msg.get("notification")
        if not isinstance(channel, str) or payload is None:
            self.skipped_lines += 1
            return
        self.messages += 1
        if channel.startswith(self._book) and isinstance(payload, dict):
            self._book_message(payload, bool(msg.get("snapshot")), local_ns)
        elif channel.startswith(self._ticker) and isinstance(payload, dict):
            self._ticker_message(payload, local_ns)
        elif channel == self._index and isinstance(payload, dict):
            price = payload.get("price")
            if self._synced and isinstance(price, int | float):
                exch, local = self._times(payload.get("timestamp"), local_ns)
                self._add(INDEX_EVENT, 0, exch, local, 0, 0, float(price))
                self._end_message()
        else:
            self.skipped_lines += 1

    def _book_message(self, payload: dict[str, object], snapshot: bool, local_ns: int) -> None:
        if not snapshot and not self._synced:
            self.skipped_lines += 1
            return
        exch, local = self._times(payload.get("time"), local_ns)
        kind = DEPTH_EVENT
        if snapshot:
            self.snapshots += 1
            self._synced = True
            kind = DEPTH_SNAPSHOT_EVENT
            self._add(DEPTH_CLEAR_EVENT, 0, exch, local, 0, 0, 0.0)
        start = len(self._rows)
        for side, key in ((1, "bid_changes"), (-1, "ask_changes")):
            levels = payload.get(key)
            if isinstance(levels, list):
                for level in levels:
                    price, amount = float(level[0]), float(level[1])
                    ticks = round(price * self._inv_tick)
                    self._add(kind, side, exch, local, ticks, round(amount * self._inv_lot), 0.0)
        trades = payload.get("trades")
        if not snapshot and isinstance(trades, list):
            for trade in trades:
                side = 1 if trade[2] == "buy" else -1
                ticks = round(float(trade[0]) * self._inv_tick)
                lots = round(float(trade[1]) * self._inv_lot)
                self._add(TRADE_EVENT, side, exch, local, ticks, lots, 0.0)
        if len(self._rows) > start or snapshot:
            self._end_message()

    def _ticker_message(self, payload: dict[str, object], local_ns: int) -> None:
        if not self._synced:
            self.skipped_lines += 1
            return
        exch, local = self._times(payload.get("mark_timestamp"), local_ns)
        start = len(self._rows)
        for kind, key in (
            (MARK_EVENT, "mark_price"),
            (INDEX_EVENT, "index"),
            (FUNDING_RATE_EVENT, "funding_rate"),
        ):
            value = payload.get(key)
            if isinstance(value, int | float):
                self._add(kind, 0, exch, local, 0, 0, float(value))
        if len(self._rows) > start:
            self._end_message()

    def _add(
        self, kind: int, side: int, exch: int, local: int, price: int, lots: int, value: float
    ) -> None:
        self._rows.append((kind, side, exch, local, price, lots, value))
        self._flags.append(0)

    def _end_message(self) -> None:
        if self._flags:
            self._flags[-1] = END_OF_MESSAGE_FLAG

    def _flush(self) -> Events:
        out = events_from_rows(self._rows, self._flags)
        self._rows = []
        self._flags = []
        return out
