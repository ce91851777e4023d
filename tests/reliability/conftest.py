"""Fixtures of the reliability suite: virtual time (PostgreSQL comes from tests/postgres.py)."""

from __future__ import annotations

import pytest
import trio.testing


@pytest.fixture
def virtual_clock() -> trio.testing.MockClock:
    """Pure virtual time: the clock jumps whenever every task waits."""
    return trio.testing.MockClock(autojump_threshold=0)
