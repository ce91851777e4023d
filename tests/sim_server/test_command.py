"""`python -m thalex_trio sim` as a process, the development key, and argument errors."""

from __future__ import annotations

import os
import selectors
import signal
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
import trio

from thalex_trio.cli import main
from thalex_trio.sim.server.keys import ensure_dev_key, load_dev_keys
from thalex_trio.thalex.credentials import Credentials
from thalex_trio.thalex.session import open_thalex_session
from thalex_trio.thalex.wire_requests import ThalexOpenOrdersRequest

if TYPE_CHECKING:
    from pathlib import Path

STARTUP_TIMEOUT_S = 60.0


def _read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(STARTUP_TIMEOUT_S):
            raise AssertionError("no listening line")
    return process.stdout.readline()


def test_sim_process_prints_its_address_and_serves_a_login(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    process = subprocess.Popen(
        [sys.executable, "-m", "thalex_trio", "sim", "--port", "0", "--keys-dir", str(keys_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = _read_line(process)
        assert line.startswith("listening on ws://127.0.0.1:")
        url = line.removeprefix("listening on ").strip()
        assert url.endswith("/ws/api/v2")
        (key,) = load_dev_keys(keys_dir)
        assert stat.S_IMODE(key.private_key_path.stat().st_mode) == 0o600
        credentials = Credentials.from_file(key.key_id, key.private_key_path)

        async def session() -> int:
            with trio.fail_after(20):
                async with open_thalex_session(url, credentials) as client:
                    return len(await client.request(ThalexOpenOrdersRequest()))

        assert trio.run(session) == 0
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_dev_key_is_made_once_then_reused(tmp_path: Path) -> None:
    first = ensure_dev_key(tmp_path / "k")
    again = ensure_dev_key(tmp_path / "k")
    assert first.key_id == again.key_id
    assert first.private_key_path.name == f"{first.key_id}.pem"
    assert stat.S_IMODE(os.stat(first.private_key_path).st_mode) == 0o600


@pytest.mark.parametrize(
    "argv",
    [
        ["sim", "--faults", "explode=1"],
        ["sim", "--market", "replay:/nonexistent/*.gz"],
        ["sim", "--market", "sideways"],
        ["sim", "--speed", "0"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "thalex-trio sim: bad" in capsys.readouterr().err or "--speed" in argv
