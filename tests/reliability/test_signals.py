"""SIGINT and SIGTERM to a real `python -m thalex_trio live --network sim` mid-run: every order
cancelled, the store flushed up to the signal and beyond, exit status 0.

Once with the simulator inside the bot's process (the one-command offline run), checked through
the store and the summary; once against a simulator in the test process, checked at the
simulator itself.
"""

from __future__ import annotations

import functools
import re
import signal
from typing import TYPE_CHECKING

import pytest
import trio

from thalex_trio.commands.exit_codes import ExitCode

from .live import count, query
from .process import REPO, bot_command, bot_environment, open_watched_sim

if TYPE_CHECKING:
    from pathlib import Path

START_DEADLINE_S = 90.0
"""The bot must be quoting this soon after it started (imports, the store, the simulator)."""

STOP_DEADLINE_S = 30.0
"""... and gone this soon after the signal (cleanup and store flush deadlines are 5 s each)."""

POLL_S = 0.2


def summary_value(summary: str, label: str) -> str:
    """A value of the summary table printed at exit."""
    match = re.search(rf"^{re.escape(label)}\s+(.+)$", summary, re.MULTILINE)
    assert match is not None, f"no {label!r} in the summary:\n{summary}"
    return match.group(1).strip()


async def wait_for_resting_orders(dsn: str, process: trio.Process) -> int:
    """Poll the store until the bot has recorded an open order; the number of order events."""
    with trio.fail_after(START_DEADLINE_S):
        while True:
            assert process.returncode is None, "the bot exited before quoting"
            open_orders = await trio.to_thread.run_sync(
                count, dsn, "SELECT count(*) FROM order_events WHERE state = 'open'"
            )
            if open_orders:
                return await trio.to_thread.run_sync(
                    count, dsn, "SELECT count(*) FROM order_events"
                )
            await trio.sleep(POLL_S)


async def signal_mid_run(
    args: list[str], env: dict[str, str], dsn: str, signum: signal.Signals, out_dir: Path
) -> tuple[int, str, int]:
    """Start the bot, wait until it quotes, send `signum`; (exit status, stdout, order events
    recorded before the signal)."""
    stdout, stderr = out_dir / "stdout.txt", out_dir / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        async with trio.open_nursery() as nursery:
            run = functools.partial(
                trio.run_process,
                bot_command(*args),
                env=env,
                cwd=REPO,
                stdout=out,
                stderr=err,
                check=False,
            )
            process: trio.Process = await nursery.start(run)
            before = await wait_for_resting_orders(dsn, process)
            await trio.sleep(1.0)  # quoting for a while: fills, amends
            process.send_signal(signum)
            with trio.fail_after(STOP_DEADLINE_S):
                code = await process.wait()
    assert code == ExitCode.OK, stderr.read_text()[-3000:]
    return code, stdout.read_text(), before


def check_store(dsn: str, summary: str, signum: signal.Signals) -> None:
    """The store holds the run to its end: why and how it stopped, every order, every fill."""
    assert query(dsn, "SELECT exit_reason, exit_code FROM run_stops") == [
        (f"signal {signum.name}", 0)
    ]
    # Every order the bot sent is in the store, and every fill it counted.
    inserts = re.match(r"\d+ \((\d+) ins", summary_value(summary, "orders sent"))
    assert inserts is not None
    orders = count(dsn, "SELECT count(DISTINCT client_order_id) FROM order_events")
    assert orders == int(inserts.group(1))
    assert count(dsn, "SELECT count(*) FROM fills") == int(summary_value(summary, "fills"))
    # No order was left open: the last recorded state of each is terminal.
    last_states = query(
        dsn,
        "SELECT DISTINCT ON (client_order_id) client_order_id, state FROM order_events"
        " ORDER BY client_order_id, seq DESC",
    )
    assert last_states
    assert [row for row in last_states if row[1] != "terminal"] == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
async def test_a_signal_stops_the_one_command_run_cleanly(
    signum: signal.Signals, db_dsn: str, tmp_path: Path
) -> None:
    env = bot_environment(tmp_path / "home", {"THALEX_TRIO_DSN": db_dsn})
    args = ["live", "--network", "sim", "--config", "config/sim.toml", "--duration", "300"]
    args += ["--keys-dir", str(tmp_path / "keys")]
    _, summary, before = await signal_mid_run(args, env, db_dsn, signum, tmp_path)
    assert summary_value(summary, "stopped because") == f"signal {signum.name}"
    assert summary_value(summary, "exit code") == "0"
    assert summary_value(summary, "orders cancelled at exit") == "yes"
    # The simulator runs in this process: tick-to-order is our side of the socket only.
    assert summary_value(summary, "tick-to-order p50 / p99 / max").endswith(
        "samples, simulator time left out)"
    )
    assert count(db_dsn, "SELECT count(*) FROM order_events") >= before
    check_store(db_dsn, summary, signum)


async def test_sigterm_leaves_nothing_at_the_simulator(
    db_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys"
    async with open_watched_sim(keys, monkeypatch) as seen:
        env = bot_environment(tmp_path / "home", {"THALEX_TRIO_DSN": db_dsn})
        args = ["live", "--network", "sim", "--sim-url", seen.server.url, "--keys-dir", str(keys)]
        args += ["--config", "config/sim.toml", "--duration", "300"]
        _, summary, _ = await signal_mid_run(args, env, db_dsn, signal.SIGTERM, tmp_path)
        assert "private/insert" in seen.methods
        assert seen.server.open_orders() == []
        simulator_lots = seen.server.position().size_lots
    check_store(db_dsn, summary, signal.SIGTERM)
    # A simulator elsewhere (another process, here the test's) is as remote as the exchange.
    assert summary_value(summary, "tick-to-order p50 / p99 / max").endswith(" samples)")
    # Every fill the simulator made is in the store: the position from the stored fills is the
    # simulator's (which started flat).
    signed = query(
        db_dsn,
        "SELECT coalesce(sum(CASE side WHEN 'buy' THEN amount_lots ELSE -amount_lots END), 0)"
        " FROM fills",
    )
    assert signed == [(simulator_lots,)]
