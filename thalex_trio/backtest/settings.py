"""A backtest's configuration: the application TOML plus its `[backtest]` table and `--set`
overrides, validated by `thalex_trio.config` (one converter, one error format).

Until `AppConfig` has a `backtest` section, the `[backtest]` table is taken out of the file
here and structured with the same converter; `--set key=value` goes through the same override
path as `THALEX_TRIO_<SECTION>__<FIELD>` environment variables (values parsed as TOML).
"""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING, cast

import cattrs
from attrs import frozen

from thalex_trio.backtest.params import BacktestParams
from thalex_trio.config import (
    CONVERTER,
    ENV_PREFIX,
    AppConfig,
    ConfigError,
    apply_env_overrides,
    parse_config,
)
from thalex_trio.reconcile.params import ReconcileLimits

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

_SECTION = "backtest"


@frozen
class BacktestConfig:
    """Everything one backtest run uses."""

    app: AppConfig
    backtest: BacktestParams
    source: str
    table: dict[str, object]
    """The merged TOML table (after overrides), for the run record and sweeps."""


def overrides_environ(assignments: Sequence[str]) -> dict[str, str]:
    """`section.field=value` strings as the equivalent override environment."""
    environ: dict[str, str] = {}
    errors = []
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        parts = [p.strip() for p in key.split(".")]
        if not sep or len(parts) < 2 or not all(parts):
            errors.append(f"--set {assignment!r}: expected section.field=value")
            continue
        environ[ENV_PREFIX + "__".join(p.upper() for p in parts)] = value.strip()
    if errors:
        raise ConfigError(errors)
    return environ


def read_table(path: Path | None) -> dict[str, object]:
    """The TOML table of `path` (empty for None); raises ConfigError."""
    if path is None:
        return {}
    try:
        return cast(dict[str, object], tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: no such file"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc


def build_config(
    table: Mapping[str, object],
    environ: Mapping[str, str],
    assignments: Sequence[str] = (),
    source: str = "<table>",
) -> BacktestConfig:
    """Validate `table` with environment and `--set` overrides (the latter win)."""
    merged = _copy(dict(table))
    errors = apply_env_overrides(merged, environ)
    errors += apply_env_overrides(merged, overrides_environ(assignments))
    if errors:
        raise ConfigError(errors)
    raw = merged.pop(_SECTION, {})
    params: BacktestParams | None = None
    try:
        params = CONVERTER.structure(raw, BacktestParams)
    except cattrs.ClassValidationError as exc:
        messages = cattrs.transform_error(exc, path=_SECTION)
        errors += [_readable(m) for m in messages]
    except (ValueError, TypeError) as exc:
        errors.append(f"{_SECTION}: {exc}")
    # Overrides are already in `merged`; the process environment must not apply them twice.
    app_env = {k: v for k, v in environ.items() if not k.startswith(ENV_PREFIX)}
    try:
        loaded = parse_config(merged, app_env, source=source)
    except ConfigError as exc:
        errors += exc.errors
        loaded = None
    if errors or loaded is None or params is None:
        raise ConfigError(errors)
    merged[_SECTION] = raw
    return BacktestConfig(loaded.config, params, source, merged)


def load_backtest_config(
    path: Path | None, environ: Mapping[str, str], assignments: Sequence[str] = ()
) -> BacktestConfig:
    """Load the file at `path` (defaults when None) with overrides; raises ConfigError."""
    return build_config(read_table(path), environ, assignments, str(path or "<defaults>"))


def reconcile_limits(app: AppConfig) -> ReconcileLimits:
    """The reconciler's hard limits, from the risk limits (one place decides them)."""
    return ReconcileLimits(
        max_exposure_lots=app.risk.max_exposure_lots, max_order_lots=app.risk.max_order_lots
    )


def _readable(message: str) -> str:
    text, _, path = message.rpartition(" @ ")
    path = path.removeprefix("$").removeprefix(".")
    return f"{path}: {text}" if path else text


def _copy(table: dict[str, object]) -> dict[str, object]:
    return {
        k: _copy(cast(dict[str, object], v)) if isinstance(v, dict) else v for k, v in table.items()
    }
