"""Virtual time for the runtime tests: an autojumping MockClock on pure virtual time."""

from __future__ import annotations

import pytest
import trio.testing


@pytest.fixture
def virtual_clock() -> trio.testing.MockClock:
    """Autojumping MockClock: time moves only when every task waits."""
    return trio.testing.MockClock(autojump_threshold=0)
