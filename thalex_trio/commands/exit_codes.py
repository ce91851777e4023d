"""Process exit codes, one per class of stop, so a supervisor can tell them apart."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit status of `python -m thalex_trio`."""

    OK = 0
    """Finished, or stopped by SIGINT/SIGTERM with every order cancelled."""
    CRASH = 1
    """A non-retryable error (crash-only): the message says what."""
    USAGE = 2
    """Bad command line, configuration or credentials; nothing was sent to the exchange."""
    NOT_AVAILABLE = 3
    """The command exists but this build does not provide it yet."""
    RISK_REDUCING = 10
    """Stopped by a risk breach whose trading state was REDUCING (position, notional,
    exposure, stale data, latency, reject or throttle rate, take profit, or our position
    disagreeing with the venue's); a new process starts again from the venue's position."""
    RISK_HALTED = 11
    """Stopped by a risk breach that HALTED trading (drawdown, stop loss, order size,
    disconnects): terminal."""
    CLEANUP_INCOMPLETE = 12
    """Stopped, but cancelling every order did not complete within the cleanup deadline."""
