"""Event arrays: hftbacktest's `.npz` (v2 structured `event_dtype`, or the v1 2-D float
layout) and our own normalised files: `.npz` with `events` holding `EVENT_DTYPE` records, or a
plain `.npy` of them, which is read in chunks straight from the file (bounded memory, one copy).

hftbacktest v2 records (`ev, exch_ts, local_ts, px, qty, order_id, ival, fval`) carry the event
kind in the low byte of `ev` and flags above it: `EXCH_EVENT` (1 << 31) marks events the
exchange side processes, `BUY_EVENT` (1 << 29) / `SELL_EVENT` (1 << 28) the side (for trades,
the aggressor). Only exchange-side depth, trade, clear and snapshot events are kept; BBO and
order-by-order events are counted in `skipped_events`. v1 arrays are rows of `event, exch_ts,
local_ts, side, price, qty` with microsecond times. hftbacktest has no message boundaries, so
the last event of each exchange timestamp carries `END_OF_MESSAGE_FLAG`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    EVENT_DTYPE,
    TRADE_EVENT,
    Events,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from numpy.typing import NDArray

EXCH_EVENT = 1 << 31
LOCAL_EVENT = 1 << 30
BUY_EVENT = 1 << 29
SELL_EVENT = 1 << 28
_KINDS = (DEPTH_EVENT, TRADE_EVENT, DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT)
_US_BELOW = 10**17  # a timestamp below this is in microseconds
OWN_KEY = "events"
"""The array name of our own normalised cache files."""


def is_own_npz(path: Path) -> bool:
    """True when `path` is one of our normalised event files."""
    with np.load(path, allow_pickle=False) as data:
        return OWN_KEY in data.files


CONVERT_SECONDS_KEY = "convert_seconds"
"""How long the conversion that produced a cached event file took (readers ignore it)."""


def save_event_array(path: Path, events: Events) -> None:
    """Write events as our normalised `.npy` (read back in chunks, with bounded memory)."""
    np.save(path, events, allow_pickle=False)


def save_events(path: Path, events: Events, *, convert_seconds: float | None = None) -> None:
    """Write events as our normalised `.npz` (uncompressed: it loads at memory speed),
    optionally with the seconds their conversion took."""
    if convert_seconds is None:
        np.savez(path, events=events)  # the keyword is OWN_KEY
    else:
        np.savez(path, events=events, convert_seconds=np.float64(convert_seconds))


class NpzReader:
    """Reads `.npz` event files as chunks of `EVENT_DTYPE`, with counters."""

    def __init__(self, tick_size: float, lot_size: float, *, chunk_events: int = 1 << 18) -> None:
        self._inv_tick = 1.0 / tick_size
        self._inv_lot = 1.0 / lot_size
        self._chunk_events = chunk_events
        self.skipped_events = 0
        self.sequence_breaks = 0  # event arrays carry no sequence numbers

    def read_files(self, paths: list[Path]) -> Iterator[Events]:
        """Event chunks of every file in order."""
        for path in paths:
            if path.suffix == ".npy":
                yield from self._read_npy(path)
                continue
            with np.load(path, allow_pickle=False) as data:
                if OWN_KEY in data.files:
                    events = _own_events(path, data[OWN_KEY])
                else:
                    events = self._convert(data[data.files[0]])
            for start in range(0, events.shape[0], self._chunk_events):
                yield events[start : start + self._chunk_events]

    def _read_npy(self, path: Path) -> Iterator[Events]:
        """Chunks of a `.npy` of `EVENT_DTYPE` records, each a fresh array read from the file."""
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            if len(shape) != 1 or fortran or dtype.names != EVENT_DTYPE.names:
                raise ValueError(f"{path}: not a 1-D array of EVENT_DTYPE records")
            left = int(shape[0])
            while left > 0:
                chunk = np.fromfile(fh, dtype=dtype, count=min(left, self._chunk_events))
                if chunk.shape[0] == 0:
                    raise ValueError(f"{path}: truncated ({left} records missing)")
                left -= int(chunk.shape[0])
                yield _own_events(path, chunk)

    def _convert(self, raw: NDArray[np.void] | NDArray[np.float64]) -> Events:
        if raw.dtype.names is not None and "ev" in raw.dtype.names:
            columns = _v2_columns(cast("NDArray[np.void]", raw))
        elif raw.ndim == 2 and raw.shape[1] >= 6:
            columns = _v1_columns(raw.astype(np.float64))
        else:
            raise ValueError(
                f"not an hftbacktest event array: dtype {raw.dtype}, shape {raw.shape}"
            )
        kind, keep, side, exch, local, px, qty = columns
        self.skipped_events += int((~keep).sum())
        n = int(keep.sum())
        out = np.zeros(n, dtype=EVENT_DTYPE)
        exch_ns = exch[keep]
        local_ns = local[keep]
        if n and int(exch_ns.max()) < _US_BELOW:
            exch_ns = exch_ns * 1000
            local_ns = local_ns * 1000
        if n:
            exch_ns = np.maximum.accumulate(exch_ns)
            local_ns = np.maximum.accumulate(np.maximum(local_ns, exch_ns))
            last = np.append(exch_ns[1:] != exch_ns[:-1], True)
            out["flags"] = np.where(last, END_OF_MESSAGE_FLAG, 0)
        out["kind"] = kind[keep]
        out["side"] = side[keep]
        out["exch_ts_ns"] = exch_ns
        out["local_ts_ns"] = local_ns
        out["price_ticks"] = np.rint(px[keep] * self._inv_tick)
        out["amount_lots"] = np.rint(qty[keep] * self._inv_lot)
        return out


def _own_events(path: Path, stored: NDArray[np.void]) -> Events:
    """Our cached records as `EVENT_DTYPE` (the array is fresh, so it is ours to modify)."""
    if stored.dtype.names != EVENT_DTYPE.names:
        raise ValueError(f"{path}: '{OWN_KEY}' is not EVENT_DTYPE records")
    if stored.dtype.fields == EVENT_DTYPE.fields and stored.dtype.itemsize == EVENT_DTYPE.itemsize:
        # The .npy header does not keep the aligned flag; the layout is the same, so a view
        # restores the exact dtype without copying.
        return stored.view(EVENT_DTYPE)
    events = np.zeros(stored.shape[0], dtype=EVENT_DTYPE)
    for name in EVENT_DTYPE.names or ():
        events[name] = stored[name]
    return events


_Columns = tuple[
    "NDArray[np.int64]",
    "NDArray[np.bool_]",
    "NDArray[np.int64]",
    "NDArray[np.int64]",
    "NDArray[np.int64]",
    "NDArray[np.float64]",
    "NDArray[np.float64]",
]


def _v2_columns(raw: NDArray[np.void]) -> _Columns:
    ev = raw["ev"].astype(np.uint64)
    kind = (ev & np.uint64(0xFF)).astype(np.int64)
    exch_flag = (ev & np.uint64(EXCH_EVENT)) != 0
    local_flag = (ev & np.uint64(LOCAL_EVENT)) != 0
    keep = np.isin(kind, _KINDS) & (exch_flag | ~local_flag)
    side = np.where((ev & np.uint64(BUY_EVENT)) != 0, 1, 0).astype(np.int64)
    side = np.where((ev & np.uint64(SELL_EVENT)) != 0, -1, side).astype(np.int64)
    return (
        kind,
        keep,
        side,
        raw["exch_ts"].astype(np.int64),
        raw["local_ts"].astype(np.int64),
        raw["px"].astype(np.float64),
        raw["qty"].astype(np.float64),
    )


def _v1_columns(raw: NDArray[np.float64]) -> _Columns:
    kind = raw[:, 0].astype(np.int64)
    return (
        kind,
        np.isin(kind, _KINDS),
        raw[:, 3].astype(np.int64),
        raw[:, 1].astype(np.int64),
        raw[:, 2].astype(np.int64),
        raw[:, 4],
        raw[:, 5],
    )
