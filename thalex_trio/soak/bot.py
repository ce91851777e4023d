"""The bot under test: how it is started, and what its output says.

It runs as `python -m thalex_trio live --network sim --sim-url URL` in a process of its own,
with JSON logs on stderr and its summary table on stdout, against its own database
(`THALEX_TRIO_DSN`) and with the few risk settings a fault schedule must not trip over
(`BOT_OVERRIDES`).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import psutil  # type: ignore[import-untyped]  # psutil ships no type information
from attrs import frozen

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

READY_MARKER = "ready: book two-sided, orders and position known; quoting"
"""What the bot logs once a (re)started session has rebuilt its view and starts quoting."""

BOT_OVERRIDES: dict[str, str] = {
    # The schedule drops the connection on purpose dozens of times; halting on the tenth
    # disconnect in an hour is the breach tests' business, not the soak's.
    "THALEX_TRIO_RISK__MAX_DISCONNECTS": "1000",
    # Likewise a throttle burst (19 in a row) crosses the 10-per-minute limit by design, and
    # reduce-only quoting for the rest of the minute would hide the next fault's recovery.
    "THALEX_TRIO_RISK__MAX_THROTTLES_PER_WINDOW": "1000",
    # A REDUCING episode (stale data during a partition, a burst of rejects or throttles)
    # ends after 5 s of calm and ramps back in 2 s steps instead of 30 s and 10 s, so one
    # fault does not shadow the next in a short schedule.
    "THALEX_TRIO_RISK__COOLDOWN_S": "5",
    "THALEX_TRIO_RISK__RECOVERY_STEP_S": "2",
}
"""Settings the soak changes in the bot's configuration (environment overrides), and why."""


def bot_command(config_path: Path, sim_url: str, keys_dir: Path) -> list[str]:
    """The bot's command line."""
    return [
        sys.executable,
        "-m",
        "thalex_trio",
        "live",
        "--config",
        str(config_path),
        "--network",
        "sim",
        "--sim-url",
        sim_url,
        "--keys-dir",
        str(keys_dir),
        "--json-logs",
    ]


def bot_environment(base: Mapping[str, str], dsn: str, data_dir: Path) -> dict[str, str]:
    """The bot's environment: ours without any `THALEX_TRIO_*` setting, plus its database,
    its data folder (journal) and `BOT_OVERRIDES`."""
    env = {k: v for k, v in base.items() if not k.startswith("THALEX_TRIO_")}
    env.update(BOT_OVERRIDES)
    env["THALEX_TRIO_DSN"] = dsn
    env["THALEX_TRIO_PERSISTENCE__DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


STATUS_LOGGER = "thalex_trio.status"
"""The logger of the bot's periodic status line (its gaps show a stalled event loop)."""


@frozen
class LogLine:
    """One line the bot wrote to stderr (a JSON record, or raw text such as a traceback);
    `time_s` is the record's wall-clock time."""

    level: str
    logger: str
    message: str
    time_s: float | None = None


def parse_log_line(line: str) -> LogLine:
    """A JSON log record, or the raw line as an unknown-level record."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return LogLine("RAW", "", line)
    if not isinstance(record, dict):
        return LogLine("RAW", "", line)
    stamp = record.get("ts")
    return LogLine(
        str(record.get("level", "")),
        str(record.get("logger", "")),
        str(record.get("msg", "")),
        float(stamp) if isinstance(stamp, int | float) else None,
    )


def parse_summary_table(stdout: str) -> dict[str, str]:
    """The rows of the summary table the bot prints at exit (`name  value` lines between
    dashed rules); empty when there is none."""
    rows: dict[str, str] = {}
    inside = False
    for line in stdout.splitlines():
        if line.startswith("---"):
            inside = not inside
            continue
        if inside:
            name, sep, value = line.partition("  ")
            if sep:
                rows[name.strip()] = value.strip()
    return rows


def rss_bytes(pid: int) -> int | None:
    """The resident set size of process `pid` (None once it is gone)."""
    try:
        rss: int = psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return None
    return rss
