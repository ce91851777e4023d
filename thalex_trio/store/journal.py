"""The local journal: execution rows the database could not take, kept until it can.

An append-only JSON-lines file, one `[table, copy_line]` line per row (the row's COPY text line
as the sink built it), written and fsynced per batch before the writer forgets the batch; lines
of the earlier `[table, value, ...]` form are still read, converted to COPY lines. Replay
claims the file by renaming it (new spills go to a fresh file meanwhile), inserts its rows with
`ON CONFLICT DO NOTHING` and deletes the claim only after that commits. A row may therefore be
replayed twice (a crash after commit, a batch whose commit was never acknowledged) but lands
once, because execution tables hold their `(sink_id, seq)` unique.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, cast

import orjson

from thalex_trio.store.rows import copy_line

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

_log = logging.getLogger(__name__)

_CLAIM_INFIX = ".replay-"


class Journal:
    """An append-only spill file for execution rows; safe to use from several threads."""

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, rows: Iterable[tuple[str, str]]) -> int:
        """Append `(table, COPY line)` rows durably (fsync when configured); returns how many
        were written."""
        payload = b"".join(orjson.dumps(row) + b"\n" for row in rows)
        if not payload:
            return 0
        with self._lock, self.path.open("ab") as file:
            file.write(payload)
            file.flush()
            if self.fsync:
                os.fsync(file.fileno())
        return payload.count(b"\n")

    def claim(self) -> list[Path]:
        """Files to replay, oldest first: earlier unfinished claims plus the current journal,
        which is renamed so that appends during the replay go to a fresh file."""
        with self._lock:
            if self.path.exists() and self.path.stat().st_size > 0:
                self.path.rename(
                    self.path.with_name(f"{self.path.name}{_CLAIM_INFIX}{time.time_ns()}")
                )
            return sorted(self.path.parent.glob(f"{self.path.name}{_CLAIM_INFIX}*"))

    def discard(self, claimed: Path) -> None:
        """Delete a claimed file whose rows are committed."""
        claimed.unlink(missing_ok=True)

    def is_empty(self) -> bool:
        """True when nothing waits for replay."""
        with self._lock:
            current = self.path.exists() and self.path.stat().st_size > 0
            return not current and not any(
                self.path.parent.glob(f"{self.path.name}{_CLAIM_INFIX}*")
            )


def read_journal(path: Path) -> dict[str, list[str]]:
    """COPY lines of one journal file grouped by table; a torn last line (a crash mid-write) is
    skipped with a warning, since its batch was never acknowledged as journaled."""
    by_table: dict[str, list[str]] = {}
    lines = path.read_bytes().splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            decoded = cast(list[int | float | str | None], orjson.loads(line))
        except orjson.JSONDecodeError:
            if number == len(lines):
                _log.warning("journal %s: skipping a torn last line", path)
                continue
            raise
        table = str(decoded[0])
        if len(decoded) == 2 and isinstance(decoded[1], str):
            copied = decoded[1]
        else:  # the earlier form, one JSON value per column (no table has a single column)
            copied = copy_line(tuple(decoded[1:]))
        by_table.setdefault(table, []).append(copied)
    return by_table
