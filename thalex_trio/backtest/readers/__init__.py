"""Every market data source as one normalised event stream (`thalex_trio.sim.events`).

`open_event_stream(paths, ...)` looks at the first file and picks the reader: `.npz` event
arrays (hftbacktest or our cache) and our `.npy` event files, raw Binance captures
(`<local_ts> <json>` lines with `stream` / `lastUpdateId`), or our own Thalex recordings
(`<local_ts> <json>` lines with `channel_name`). All files of one stream must be of the same
format and are read in order.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson

from thalex_trio.backtest.readers.npz import NpzReader
from thalex_trio.backtest.readers.thalex_recording import ThalexRecordingReader, open_lines
from thalex_trio.sim.market.binance import BinanceReplay, capture_symbol

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from thalex_trio.sim.events import Events


class SourceFormat(enum.Enum):
    """The formats `open_event_stream` reads."""

    BINANCE = "binance"
    THALEX = "thalex"
    NPZ = "npz"


class UnknownFormat(ValueError):
    """A file none of the readers understands."""


class NoMarketData(ValueError):
    """Data that held no event of the instrument (the message says why)."""


def detect_format(path: Path) -> SourceFormat:
    """The format of one file, from its suffix or its first line."""
    if path.suffix in (".npz", ".npy"):
        return SourceFormat.NPZ
    for line in open_lines(path):
        if not line.strip():
            continue
        _, _, body = line.partition(b" ")
        try:
            msg = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise UnknownFormat(f"{path}: first line is not '<timestamp> <json>'") from exc
        if isinstance(msg, dict) and ("stream" in msg or "lastUpdateId" in msg):
            return SourceFormat.BINANCE
        if isinstance(msg, dict) and "channel_name" in msg:
            return SourceFormat.THALEX
        break
    raise UnknownFormat(f"{path}: neither a Binance capture, a Thalex recording nor .npz/.npy")


class EventStream:
    """A lazily read event stream and the counters its reader keeps.

    `feed_latency_ns` None keeps the data's local times (Thalex recordings and event arrays
    carry real receive times); a number sets `local = exchange + feed_latency_ns`. Binance
    captures always use a number (0 when None): their collector's clock was off by more than
    a second (data/README.md), so their local times are not a latency measurement.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        instrument_name: str,
        tick_size: float,
        lot_size: float,
        underlying: str | None = None,
        feed_latency_ns: int | None = None,
    ) -> None:
        if not paths:
            raise UnknownFormat("no data files given")
        self.paths = [Path(p) for p in paths]
        formats = {detect_format(p) for p in self.paths}
        if len(formats) != 1:
            names = ", ".join(sorted(f.value for f in formats))
            raise UnknownFormat(f"all files of one stream must share a format, got {names}")
        self.format = formats.pop()
        self.feed_latency_ns = feed_latency_ns
        self._binance: BinanceReplay | None = None
        self._thalex: ThalexRecordingReader | None = None
        self._npz: NpzReader | None = None
        self.instrument_name = instrument_name
        match self.format:
            case SourceFormat.BINANCE:
                self._binance = BinanceReplay(
                    tick_size,
                    lot_size,
                    symbol=_binance_symbol(self.paths, instrument_name),
                    feed_latency_ns=feed_latency_ns or 0,
                )
            case SourceFormat.THALEX:
                self._thalex = ThalexRecordingReader(
                    instrument_name, tick_size, lot_size, underlying=underlying
                )
            case SourceFormat.NPZ:
                self._npz = NpzReader(tick_size, lot_size)

    def chunks(self) -> Iterator[Events]:
        """Event chunks in order (each file opened only when reached)."""
        if self._binance is not None:
            yield from self._binance.read_files(self.paths)
            return
        source = (
            self._thalex.read_files(self.paths)
            if self._thalex is not None
            else self._npz.read_files(self.paths)  # type: ignore[union-attr]  # one is set
        )
        latency = self.feed_latency_ns
        for chunk in source:
            if latency is not None:
                # The readers build fresh arrays for us, so the receive times are set in place.
                if not chunk.flags.writeable:
                    chunk = chunk.copy()
                np.add(chunk["exch_ts_ns"], np.int64(latency), out=chunk["local_ts_ns"])
            yield chunk

    def counters(self) -> dict[str, int]:
        """What the reader saw: sequence breaks, skipped and bad lines, snapshots ..."""
        if self._binance is not None:
            b = self._binance
            return {
                "sequence_breaks": b.sequence_breaks,
                "messages": b.messages,
                "snapshots": b.snapshots,
                "skipped_lines": b.skipped_lines,
                "stale_diffs": b.stale_diffs,
                "other_symbol_lines": sum(b.other_symbol_lines.values()),
            }
        if self._thalex is not None:
            t = self._thalex
            return {
                "sequence_breaks": t.sequence_breaks,
                "messages": t.messages,
                "snapshots": t.snapshots,
                "skipped_lines": t.skipped_lines,
                "bad_lines": t.bad_lines,
                "truncated_files": t.truncated_files,
            }
        assert self._npz is not None
        return {"sequence_breaks": 0, "skipped_events": self._npz.skipped_events}

    def why_empty(self) -> str:
        """Why a stream that yielded no event had none, from what its reader saw."""
        if self._binance is not None:
            b = self._binance
            if b.snapshots == 0:
                return (
                    f"no {b.symbol or 'depth'} snapshot in the capture: a file that continues"
                    " another needs the file before it"
                )
        elif self._thalex is not None and self._thalex.snapshots == 0:
            return f"no book snapshot of {self.instrument_name} in the recording"
        return f"no {self.instrument_name} market events in the data"


def _binance_symbol(paths: Sequence[Path], instrument_name: str) -> str | None:
    """The symbol to replay from Binance captures: the instrument's name when the files hold
    it, else their only symbol; several symbols and no match is an error (which one?)."""
    symbols = {s for s in map(capture_symbol, paths) if s is not None}
    wanted = instrument_name.upper()
    if wanted in symbols or len(symbols) <= 1:
        return wanted if wanted in symbols else next(iter(symbols), None)
    raise UnknownFormat(
        f"the captures hold {', '.join(sorted(symbols))}; name one of them as the instrument"
    )


def open_event_stream(
    paths: Sequence[Path | str],
    *,
    instrument_name: str,
    tick_size: float,
    lot_size: float,
    underlying: str | None = None,
    feed_latency_ns: int | None = None,
) -> EventStream:
    """The event stream of `paths` (see `EventStream`); raises UnknownFormat."""
    return EventStream(
        [Path(p) for p in paths],
        instrument_name=instrument_name,
        tick_size=tick_size,
        lot_size=lot_size,
        underlying=underlying,
        feed_latency_ns=feed_latency_ns,
    )
