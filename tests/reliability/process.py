"""`python -m thalex_trio` as a real subprocess, and a simulator in the test process that tells
what it saw: connections and every request by method."""

from __future__ import annotations

import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import trio
from attrs import define, field

from thalex_trio.sim.engine.reports import SessionId
from thalex_trio.sim.server.config import SimServerConfig
from thalex_trio.sim.server.server import SimServer, open_sim_server

if TYPE_CHECKING:
    import subprocess
    from collections.abc import AsyncIterator, Mapping

    import pytest

    from thalex_trio.sim.server.core import Peer

REPO = Path(__file__).resolve().parents[2]

PROCESS_DEADLINE_S = 120.0
"""A bot process must have exited this long after it started (Python and numba imports take
a few seconds; a run that hangs fails here instead of hanging the suite)."""


def bot_environment(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any THALEX_TRIO_ setting of the user's, with the
    data folder (keys, embedded database) under `home`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THALEX_TRIO_")}
    env["XDG_DATA_HOME"] = str(home)
    env.update(extra or {})
    return env


def bot_command(*args: str) -> list[str]:
    """`python -m thalex_trio ARGS` with this interpreter."""
    return [sys.executable, "-m", "thalex_trio", *args]


async def run_bot_process(
    args: list[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[bytes]:
    """Run the bot to its end; its exit status and output."""
    with trio.fail_after(PROCESS_DEADLINE_S):
        return await trio.run_process(
            bot_command(*args),
            env=env,
            cwd=REPO,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )


@define
class Seen:
    """What the simulator saw of its clients."""

    server: SimServer
    connections: list[SessionId] = field(factory=list)

    @property
    def methods(self) -> list[str]:
        """Every request's method, in no particular order."""
        return list(self.server.core.request_log.values())


@asynccontextmanager
async def open_watched_sim(keys_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Seen]:
    """The simulator on a free loopback port with its development key in `keys_dir`, recording
    every connection and every request."""
    config = SimServerConfig(port=0, keys_dir=keys_dir, status_interval_s=3600.0)
    async with open_sim_server(config) as server:
        seen = Seen(server)
        # The request log is kept whenever the frame log is on.
        server.core.frame_log = []
        register = server.core.register

        def counting(peer: Peer) -> None:
            seen.connections.append(peer.session_id)
            register(peer)

        monkeypatch.setattr(server.core, "register", counting)
        yield seen
