"""A backtest's configuration: the application TOML (whose `[backtest]` section is
`BacktestParams`) with environment and `--set` overrides, validated by `thalex_trio.config`
(one converter, one error format)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from attrs import frozen

from thalex_trio.config import (
    AppConfig,
    ConfigError,
    apply_env_overrides,
    assignment_overrides,
    parse_config,
    read_config_table,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from thalex_trio.backtest.params import BacktestParams
    from thalex_trio.reconcile.params import ReconcileLimits


@frozen
class BacktestConfig:
    """Everything one backtest run uses."""

    app: AppConfig
    source: str
    table: dict[str, object]
    """The merged TOML table (after overrides), for the run record and sweeps."""

    @property
    def backtest(self) -> BacktestParams:
        """The `[backtest]` section."""
        return self.app.backtest


read_table = read_config_table
"""The TOML table of a configuration file (empty for None); raises ConfigError."""


def build_config(
    table: Mapping[str, object],
    environ: Mapping[str, str],
    assignments: Sequence[str] = (),
    source: str = "<table>",
) -> BacktestConfig:
    """Validate `table` with environment and `--set` overrides (the latter win)."""
    overrides = {**environ, **assignment_overrides(assignments)}
    merged = _copy(dict(table))
    errors = apply_env_overrides(merged, overrides)
    if errors:
        raise ConfigError(errors)
    loaded = parse_config(table, overrides, source=source)
    return BacktestConfig(loaded.config, source, merged)


def load_backtest_config(
    path: Path | None, environ: Mapping[str, str], assignments: Sequence[str] = ()
) -> BacktestConfig:
    """Load the file at `path` (defaults when None) with overrides; raises ConfigError."""
    return build_config(read_config_table(path), environ, assignments, str(path or "<defaults>"))


def reconcile_limits(app: AppConfig) -> ReconcileLimits:
    """The reconciler's hard limits (see `AppConfig.reconcile_limits`)."""
    return app.reconcile_limits


def _copy(table: dict[str, object]) -> dict[str, object]:
    return {
        k: _copy(cast(dict[str, object], v)) if isinstance(v, dict) else v for k, v in table.items()
    }
