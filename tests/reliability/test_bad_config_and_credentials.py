"""`python -m thalex_trio live` with a bad configuration or bad credentials: a clear error naming
the field or the reason, exit status 2 (USAGE), and nothing sent to the exchange.

The exchange is the simulator, running in the test process so it can tell what it saw. A bad
configuration must stop the bot before it even connects; so must a key that can be judged
without the exchange (missing, unreadable, not a key). A key only the exchange can refuse (an
unknown key id, a key that does not match its id) costs one connection and a login, and must
never get as far as a private request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from attrs import frozen
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from thalex_trio.commands.exit_codes import ExitCode

from .process import bot_environment, open_watched_sim, run_bot_process

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@frozen
class Case:
    """One bad input and what the error must say."""

    name: str
    says: tuple[str, ...]
    """Words the error must contain (the field, or the reason)."""
    config: str | None = None
    """TOML for `--config`."""
    env: tuple[tuple[str, str], ...] = ()
    connects: bool = False
    """Whether finding out needs the exchange (a login attempt, nothing more)."""


CONFIG_CASES = [
    Case(
        "limit out of range",
        ("risk.max_position_lots", "must be > 0"),
        config="[risk]\nmax_position_lots = -1\n",
    ),
    Case("unknown key", ("strategy", "gama", "unknown key"), config="[strategy]\ngama = 0.1\n"),
    Case(
        "wrong type from the environment",
        ("network.cancel_on_disconnect_s", "integer"),
        env=(("THALEX_TRIO_NETWORK__CANCEL_ON_DISCONNECT_S", "soon"),),
    ),
    Case(
        "secret in the file", ("network.key_id", "environment"), config='[network]\nkey_id = "K1"\n'
    ),
    Case("missing file", ("no such file",), config=""),
]

GARBAGE_KEY = "garbage, not a PEM key\n"


def key_case(name: str, sim_keys: Path, scratch: Path) -> Case:
    """A credentials case; it needs the simulator's key (made when it starts) and key files."""
    (dev_key,) = sim_keys.glob("*.pem")
    other, garbage = scratch / "other.pem", scratch / "garbage.pem"
    write_other_key(other)
    garbage.write_text(GARBAGE_KEY)
    garbage.chmod(0o600)
    key_id, key_file = "THALEX_TRIO_KEY_ID", "THALEX_TRIO_PRIVATE_KEY_FILE"
    cases = [
        Case(
            "unreadable key file",
            ("cannot read key file",),
            env=((key_id, dev_key.stem), (key_file, str(sim_keys / "absent.pem"))),
        ),
        Case(
            "malformed key file",
            ("not an unencrypted PEM key",),
            env=((key_id, dev_key.stem), (key_file, str(garbage))),
        ),
        Case(
            "unknown key id",
            ("K999999999",),
            env=((key_id, "K999999999"), (key_file, str(dev_key))),
            connects=True,
        ),
        Case(
            "key that does not match its id",
            ("authentication",),
            env=((key_id, dev_key.stem), (key_file, str(other))),
            connects=True,
        ),
    ]
    return {case.name: case for case in cases}[name]


KEY_CASES = [
    "unreadable key file",
    "malformed key file",
    "unknown key id",
    "key that does not match its id",
]


def write_other_key(path: Path) -> None:
    """A valid RSA key the exchange does not know."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


async def run_case(
    make_case: Callable[[Path], Case],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    keys_dir: Path | None = None,
) -> None:
    """Run `live` against a watched simulator with the case `make_case` builds from the
    simulator's key folder, and check the outcome."""
    sim_keys = tmp_path / "sim-keys"
    async with open_watched_sim(sim_keys, monkeypatch) as seen:
        case = make_case(sim_keys)
        args = ["live", "--network", "sim", "--sim-url", seen.server.url]
        args += ["--keys-dir", str(keys_dir or sim_keys), "--no-persistence", "--duration", "5"]
        if case.config is not None:
            config = tmp_path / "bad.toml"
            if case.config:
                config.write_text(case.config)
            args += ["--config", str(config)]
        done = await run_bot_process(args, bot_environment(tmp_path / "home", dict(case.env)))
        connections, methods = list(seen.connections), seen.methods
    output = (done.stderr + done.stdout).decode()
    assert done.returncode == ExitCode.USAGE, output[-3000:]
    for words in case.says:
        assert words.lower() in output.lower(), output[-3000:]
    if case.connects:
        assert len(connections) <= 1
        assert set(methods) <= {"public/login"}, methods
    else:
        assert connections == [], output[-3000:]
        assert methods == []


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda c: c.name)
async def test_a_bad_configuration_is_refused_before_connecting(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_case(lambda _keys: case, tmp_path, monkeypatch)


async def test_no_key_at_all_is_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-keys"
    empty.mkdir()
    case = Case("no key", ("no development key", str(empty)))
    await run_case(lambda _keys: case, tmp_path, monkeypatch, keys_dir=empty)


@pytest.mark.parametrize("name", KEY_CASES)
async def test_bad_credentials_send_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_case(lambda keys: key_case(name, keys, tmp_path), tmp_path, monkeypatch)
