"""How a run ended; the command maps it to the process exit status (`ExitCode` by name)."""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    """One member per class of stop; names match `commands.exit_codes.ExitCode`."""

    OK = "ok"
    CRASH = "crash"
    USAGE = "usage"
    RISK_REDUCING = "risk_reducing"
    RISK_HALTED = "risk_halted"
    CLEANUP_INCOMPLETE = "cleanup_incomplete"
