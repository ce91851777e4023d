"""Configuration: TOML files under `config/`, environment overrides, secrets from the environment.

One cattrs converter of ours structures the TOML into frozen attrs classes. Unknown keys are
errors (typos must not pass silently) and every error is reported with its path before anything
starts: `strategy.gamma: must be > 0, got -1`. Any field can be overridden from the environment
as `THALEX_TRIO_<SECTION>__<FIELD>` (nested fields with further `__`), the value parsed as a TOML
value when it is one and as a string otherwise. Secrets (API key id, private key, database DSN)
are read only from the environment, never from a file that could be committed.
"""

from __future__ import annotations

import enum
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

import attrs
import cattrs
from attrs import field, frozen
from cattrs.errors import AttributeValidationNote, ClassValidationError
from cattrs.gen import make_dict_structure_fn

from thalex_trio.backtest.params import BacktestParams
from thalex_trio.domain.validation import between, non_negative, one_of, positive
from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams
from thalex_trio.risk.limits import RiskLimits
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.strategy.params import (
    EstimatorParams,
    RegimeParams,
    SignalParams,
    StrategyParams,
)

if TYPE_CHECKING:
    from pathlib import Path

ENV_PREFIX = "THALEX_TRIO_"

SECRET_ENV = {
    "key_id": "THALEX_TRIO_KEY_ID",
    "private_key_file": "THALEX_TRIO_PRIVATE_KEY_FILE",
    "private_key": "THALEX_TRIO_PRIVATE_KEY",
    "dsn": "THALEX_TRIO_DSN",
}
"""Where each secret comes from; none of them may appear in a configuration file."""

_SECRET_WORDS = ("key_id", "private_key", "dsn", "password", "secret", "token")


class NetworkName(enum.Enum):
    """Which exchange to talk to."""

    PROD = "prod"
    TEST = "test"
    SIM = "sim"


@frozen
class NetworkConfig:
    """Endpoint and session settings."""

    network: NetworkName = NetworkName.SIM
    sim_url: str | None = None
    account: str | None = None
    keys_dir: str | None = None
    cancel_on_disconnect_s: int = field(default=6, validator=between(1, 60))
    heartbeat_interval_s: float = field(default=2.0, validator=positive)
    confirm_production: bool = False
    """Live trading on `prod` refuses to start unless this is true (or the CLI flag is given)."""

    def __attrs_post_init__(self) -> None:
        if self.heartbeat_interval_s >= self.cancel_on_disconnect_s:
            raise ValueError(
                "heartbeat_interval_s: must be below cancel_on_disconnect_s "
                f"({self.cancel_on_disconnect_s}), got {self.heartbeat_interval_s!r}"
            )


@frozen
class InstrumentConfig:
    """What we quote, and the option chain we read the expected move from."""

    name: str = "BTC-PERPETUAL"
    underlying: str = "BTCUSD"
    product: str = "FBTCUSD"
    follow_options: bool = True


@frozen
class PersistenceConfig:
    """The store. With no `THALEX_TRIO_DSN`, an embedded PostgreSQL under `data_dir`."""

    enabled: bool = True
    data_dir: str | None = None
    batch_rows: int = field(default=5000, validator=positive)
    flush_interval_s: float = field(default=0.5, validator=positive)
    queue_rows: int = field(default=100_000, validator=positive)
    quote_sample_interval_s: float = field(default=1.0, validator=non_negative)
    """How often live and shadow runs record the newest desired ladder (0: never)."""
    flush_deadline_s: float = field(default=5.0, validator=positive)


@frozen
class LoggingConfig:
    """Log level, format and the status line period."""

    level: str = field(default="INFO", validator=one_of(("DEBUG", "INFO", "WARNING", "ERROR")))
    json: bool = False
    status_interval_s: float = field(default=5.0, validator=positive)


@frozen
class AppConfig:
    """The whole configuration of one run: one section per owner of the parameters."""

    instrument: InstrumentConfig = field(factory=InstrumentConfig)
    network: NetworkConfig = field(factory=NetworkConfig)
    strategy: StrategyParams = field(factory=StrategyParams)
    estimators: EstimatorParams = field(factory=EstimatorParams)
    regimes: RegimeParams = field(factory=RegimeParams)
    signals: SignalParams = field(factory=SignalParams)
    reconcile: ReconcileParams = field(factory=ReconcileParams)
    risk: RiskLimits = field(factory=RiskLimits)
    engine: EngineParams = field(factory=EngineParams)
    backtest: BacktestParams = field(factory=BacktestParams)
    """The matching engine of shadow mode, the backtest and the simulator."""
    persistence: PersistenceConfig = field(factory=PersistenceConfig)
    logging: LoggingConfig = field(factory=LoggingConfig)

    def snapshot_json(self) -> str:
        """The configuration as a run stores it (secrets live apart, in `Secrets`), with the
        position limit also at the top level, where `report` looks for it."""
        table = attrs.asdict(self, value_serializer=_plain_value)
        snapshot = {**table, "position_limit_lots": self.strategy.position_limit_lots}
        return json.dumps(snapshot, sort_keys=True, default=str)

    @property
    def reconcile_limits(self) -> ReconcileLimits:
        """The reconciler's hard limits, taken from the risk limits so one place decides them."""
        return ReconcileLimits(
            max_exposure_lots=self.risk.max_exposure_lots,
            max_order_lots=self.risk.max_order_lots,
        )


def _plain_value(_instance: object, _field: object, value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def _masked(value: str | None) -> str:
    return "None" if value is None else "'***'"


@frozen
class Secrets:
    """Credentials from the environment; their repr never shows a value."""

    key_id: str | None = field(default=None, repr=_masked)
    private_key_file: str | None = field(default=None, repr=_masked)
    private_key: str | None = field(default=None, repr=_masked)
    dsn: str | None = field(default=None, repr=_masked)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Secrets:
        """Read every secret from its environment variable (see `SECRET_ENV`)."""
        return cls(**{name: environ.get(var) or None for name, var in SECRET_ENV.items()})


@frozen
class LoadedConfig:
    """A validated configuration with the secrets that go with it."""

    config: AppConfig
    secrets: Secrets
    source: str


class ConfigError(Exception):
    """A configuration that must not be run; `errors` lists every problem with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  {e}" for e in errors))
        self.errors = errors


# -- the converter -------------------------------------------------------------------------

T = TypeVar("T")


def _strict_scalar(
    convert: Callable[[object], T], accept: tuple[type, ...], name: str
) -> Callable[[object, type], T]:
    def structure(value: object, _type: type) -> T:
        if isinstance(value, bool) and bool not in accept:
            raise TypeError(f"expected {name}, got {value!r}")
        if not isinstance(value, accept):
            raise TypeError(f"expected {name}, got {value!r}")
        return convert(value)

    return structure


def _as_int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _as_float(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    # TOML gives exact types; refuse the silent coercions cattrs would otherwise make
    # ("yes" -> True, 1.5 -> 1, 3 -> "3").
    converter.register_structure_hook(bool, _strict_scalar(bool, (bool,), "a boolean"))
    converter.register_structure_hook(int, _strict_scalar(_as_int, (int,), "an integer"))
    converter.register_structure_hook(float, _strict_scalar(_as_float, (int, float), "a number"))
    converter.register_structure_hook(str, _strict_scalar(str, (str,), "a string"))

    def attrs_hook(cls: type) -> Callable[[Mapping[str, object], type], object]:
        generated: Callable[[Mapping[str, object], type], object] = make_dict_structure_fn(
            cls, converter
        )

        def structure(data: Mapping[str, object], type_: type) -> object:
            if not isinstance(data, Mapping):
                raise TypeError(f"expected a table, got {data!r}")
            try:
                return generated(data, type_)
            except ClassValidationError as exc:
                _, unlocated = exc.group_exceptions()
                if not unlocated:
                    raise
                # Validators run inside __init__, which cattrs reports without a field name.
                raise _locate_validation_error(cls, data, exc) from exc

        return structure

    converter.register_structure_hook_factory(attrs.has, attrs_hook)
    return converter


def _locate_validation_error(
    cls: type, data: Mapping[str, object], exc: ClassValidationError
) -> ClassValidationError:
    """Re-run each field's validator alone so the error names the field that failed."""
    failures: list[Exception] = []
    for attribute in attrs.fields(cls):
        if attribute.validator is None or attribute.name not in data:
            continue
        try:
            attribute.validator(None, attribute, data[attribute.name])
        except ValueError as field_exc:
            # Some validators already start their message with the field name.
            message = str(field_exc).removeprefix(f"{attribute.name} ").removeprefix(": ")
            field_exc = ValueError(message)
            field_exc.add_note(
                AttributeValidationNote(
                    f"Structuring class {cls.__name__} @ attribute {attribute.name}",
                    attribute.name,
                    attribute.type,
                )
            )
            failures.append(field_exc)
    if not failures:
        return exc  # a cross-field rule: its message names the fields itself
    located, _ = exc.group_exceptions()
    return ClassValidationError(
        f"While structuring {cls.__name__}", [e for e, _ in located] + failures, cls
    )


CONVERTER = _make_converter()
"""The project's one converter for configuration values."""


def _format(exc: BaseException, _type: type | None) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown key(s) {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, ValueError | TypeError) and exc.args:
        return str(exc.args[0])
    return cattrs.v.format_exception(exc, _type)


def _readable(message: str) -> str:
    # cattrs renders "msg @ $.strategy.gamma"; we print "strategy.gamma: msg".
    text, _, path = message.rpartition(" @ ")
    path = path.removeprefix("$").removeprefix(".")
    return f"{path}: {text}" if path else text


# -- loading -------------------------------------------------------------------------------


def _find_secrets(table: Mapping[str, object], path: str) -> list[str]:
    errors = []
    for key, value in table.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, Mapping):
            errors.extend(_find_secrets(cast(Mapping[str, object], value), where))
        elif any(word in key.lower() for word in _SECRET_WORDS):
            errors.append(
                f"{where}: secrets come only from the environment "
                f"({', '.join(sorted(SECRET_ENV.values()))}), never from a file"
            )
    return errors


def _parse_env_value(raw: str) -> object:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_env_overrides(table: dict[str, object], environ: Mapping[str, str]) -> list[str]:
    """Set `THALEX_TRIO_<SECTION>__<FIELD>=value` into `table`; returns errors found."""
    errors = []
    for var, raw in sorted(environ.items()):
        if not var.startswith(ENV_PREFIX) or "__" not in var or var in SECRET_ENV.values():
            continue
        parts = [p.lower() for p in var.removeprefix(ENV_PREFIX).split("__")]
        node = table
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                errors.append(f"{var}: {'.'.join(parts)} is not a table")
                break
            node = cast(dict[str, object], child)
        else:
            node[parts[-1]] = _parse_env_value(raw)
    return errors


def assignment_overrides(assignments: Sequence[str]) -> dict[str, str]:
    """`section.field=value` strings (the `--set` option) as the equivalent environment."""
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


def parse_config(
    table: Mapping[str, object], environ: Mapping[str, str], source: str = "<table>"
) -> LoadedConfig:
    """Validate a configuration table with environment overrides, or raise ConfigError."""
    errors = _find_secrets(table, "")
    merged = cast(dict[str, object], tomllib.loads("")) | dict(table)
    merged = _deep_copy(merged)
    errors += apply_env_overrides(merged, environ)
    config: AppConfig | None = None
    try:
        config = CONVERTER.structure(merged, AppConfig)
    except ClassValidationError as exc:
        errors += [_readable(m) for m in cattrs.transform_error(exc, format_exception=_format)]
    except (ValueError, TypeError) as exc:
        errors.append(str(exc))
    if errors or config is None:
        raise ConfigError(errors)
    return LoadedConfig(config=config, secrets=Secrets.from_environ(environ), source=source)


def _deep_copy(table: dict[str, object]) -> dict[str, object]:
    return {
        k: _deep_copy(cast(dict[str, object], v)) if isinstance(v, dict) else v
        for k, v in table.items()
    }


def read_config_table(path: Path | None) -> dict[str, object]:
    """The TOML table of `path` (empty for None); raises ConfigError."""
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: no such file"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc


def load_config(
    path: Path | None, environ: Mapping[str, str], assignments: Sequence[str] = ()
) -> LoadedConfig:
    """Load `path` (or the defaults when None) with overrides from `environ`, then `--set`."""
    environ = {**environ, **assignment_overrides(assignments)}
    return parse_config(read_config_table(path), environ, source=str(path or "<defaults>"))
