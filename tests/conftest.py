"""Shared test set-up: Hypothesis profiles selected by HYPOTHESIS_PROFILE (dev by default), and
the PostgreSQL fixtures of tests/postgres.py (one server per session)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.postgres import db_dsn, empty_db_dsn, pg_server

__all__ = ["db_dsn", "empty_db_dsn", "pg_server"]

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
