"""Configuration: every shipped file loads; bad input is refused with its path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from thalex_trio.config import ConfigError, NetworkName, load_config, parse_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_file_loads(path: Path) -> None:
    loaded = load_config(path, environ={})
    assert loaded.source == str(path)
    assert loaded.config.instrument.name


def test_shipped_files_cover_shadow_testnet_and_sim() -> None:
    networks = {load_config(p, {}).config.network.network for p in CONFIG_DIR.glob("*.toml")}
    assert {NetworkName.PROD, NetworkName.TEST, NetworkName.SIM} <= networks


BAD = [
    (
        {"network": {"cancel_on_disconnect_s": 0}},
        "network.cancel_on_disconnect_s: must be between 1 and 60, got 0",
    ),
    ({"network": {"network": "mainnet"}}, "network.network:"),
    (
        {"network": {"heartbeat_interval_s": -1}},
        "network.heartbeat_interval_s: must be > 0, got -1",
    ),
    (
        {"network": {"heartbeat_interval_s": 7.0}},
        "heartbeat_interval_s: must be below cancel_on_disconnect_s",
    ),
    (
        {"persistence": {"batch_rows": "many"}},
        "persistence.batch_rows: expected an integer, got 'many'",
    ),
    ({"persistence": {"enabled": "yes"}}, "persistence.enabled: expected a boolean, got 'yes'"),
    ({"persistence": {"batch_rows": 1.5}}, "persistence.batch_rows: expected an integer, got 1.5"),
    ({"logging": {"level": "LOUD"}}, "logging.level: must be one of"),
    ({"strategi": {"gamma": 0.1}}, "unknown key(s) strategi"),
    ({"network": {"netwrok": "sim"}}, "network: unknown key(s) netwrok"),
    (
        {"persistence": {"dsn": "postgresql://u:p@h/db"}},
        "persistence.dsn: secrets come only from the environment",
    ),
    (
        {"network": {"private_key": "-----BEGIN"}},
        "network.private_key: secrets come only from the environment",
    ),
    ({"instrument": "BTC"}, "instrument: expected a table"),
]


@pytest.mark.parametrize(("table", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_input_is_refused_with_path_and_reason(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(table, environ={})
    assert any(message in e for e in err.value.errors), err.value.errors


def test_every_error_is_listed_not_just_the_first() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(
            {"network": {"cancel_on_disconnect_s": 0}, "persistence": {"batch_rows": -5}},
            environ={},
        )
    joined = "\n".join(err.value.errors)
    assert "network.cancel_on_disconnect_s" in joined
    assert "persistence.batch_rows: must be > 0, got -5" in joined


def test_environment_overrides_any_field_with_typed_values() -> None:
    loaded = parse_config(
        {"network": {"network": "test"}},
        environ={
            "THALEX_TRIO_NETWORK__NETWORK": "sim",
            "THALEX_TRIO_PERSISTENCE__BATCH_ROWS": "250",
            "THALEX_TRIO_LOGGING__JSON": "true",
            "THALEX_TRIO_INSTRUMENT__NAME": "ETH-PERPETUAL",
            "UNRELATED": "x",
        },
    )
    assert loaded.config.network.network is NetworkName.SIM
    assert loaded.config.persistence.batch_rows == 250
    assert loaded.config.logging.json is True
    assert loaded.config.instrument.name == "ETH-PERPETUAL"


def test_a_bad_override_is_reported_like_a_bad_file() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({}, environ={"THALEX_TRIO_PERSISTENCE__BATCH_ROWS": "0"})
    assert "persistence.batch_rows: must be > 0, got 0" in err.value.errors


def test_secrets_come_from_the_environment_and_never_show_in_repr() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----"
    loaded = parse_config(
        {},
        environ={
            "THALEX_TRIO_KEY_ID": "K123",
            "THALEX_TRIO_PRIVATE_KEY": pem,
            "THALEX_TRIO_DSN": "postgresql://trader:hunter2@db/thalex",
        },
    )
    assert loaded.secrets.private_key == pem
    assert loaded.secrets.dsn is not None
    text = repr(loaded)
    assert "hunter2" not in text
    assert "MIIEvQ" not in text
    assert "K123" not in text


def test_missing_and_malformed_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml", {})
    broken = tmp_path / "broken.toml"
    broken.write_text("[network\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, {})


STRATEGY_BAD = [
    ({"strategy": {"gamma_per_tick": -1}}, "strategy.gamma_per_tick: must be > 0, got -1"),
    ({"strategy": {"model": "black_scholes"}}, "strategy.model:"),
    ({"regimes": {"volatile": {"gamma_multiplier": 0}}}, "regimes.volatile.gamma_multiplier:"),
    ({"engine": {"entry_latency": {"median_ns": -5}}}, "engine.entry_latency.median_ns:"),
    ({"estimators": {"warmup_s": "soon"}}, "estimators.warmup_s: expected a number"),
]


@pytest.mark.parametrize(("table", "message"), STRATEGY_BAD, ids=[m for _, m in STRATEGY_BAD])
def test_core_parameter_sections_report_paths(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(table, environ={})
    assert any(e.startswith(message) for e in err.value.errors), err.value.errors


def test_core_parameter_sections_structure_nested_values() -> None:
    loaded = parse_config(
        {
            "strategy": {"model": "avellaneda_stoikov", "levels_per_side": 5},
            "regimes": {"trending": {"skew_multiplier": 2.0}},
            "engine": {"queue_model": "power_prob", "fees": {"maker_rate": -0.0002}},
        },
        environ={"THALEX_TRIO_STRATEGY__GAMMA_PER_TICK": "0.2"},
    )
    config = loaded.config
    assert config.strategy.model.value == "avellaneda_stoikov"
    assert config.strategy.levels_per_side == 5
    assert config.strategy.gamma_per_tick == 0.2
    assert config.regimes.trending.skew_multiplier == 2.0
    assert config.engine.fees.maker_rate == -0.0002


def test_shipped_files_set_every_risk_limit() -> None:
    # Limits are optional in code; the example configurations must not run without them.
    for path in CONFIG_DIR.glob("*.toml"):
        limits = load_config(path, {}).config.risk
        for name in (
            "max_position_lots",
            "max_exposure_lots",
            "max_order_lots",
            "max_drawdown",
            "stop_loss",
            "max_market_data_age_s",
        ):
            assert getattr(limits, name) is not None, f"{path.name}: risk.{name} is not set"
