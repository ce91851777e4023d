"""Virtual time for the runtime tests.

The clock also creeps forward at real speed (`rate=1`): the session's rate limiter can ask for
a wait below the float resolution of the clock, which pure virtual time never satisfies (the
limiter would spin; reported upstream).
"""

from __future__ import annotations

import pytest
import trio.testing


@pytest.fixture
def virtual_clock() -> trio.testing.MockClock:
    """Autojumping MockClock that also runs at real speed."""
    return trio.testing.MockClock(rate=1.0, autojump_threshold=0)
