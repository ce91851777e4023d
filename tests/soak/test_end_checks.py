"""The soak's end-of-run checks, the secrets scan and the reading of the bot's output, on
synthetic inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from thalex_trio.soak.bot import parse_log_line, parse_summary_table
from thalex_trio.soak.end_checks import (
    BotOrderEvent,
    BotView,
    SimSnapshot,
    every_kind_injected,
    fills_exactly_once,
    memory_bounded,
    positions_agree,
    views_agree,
)
from thalex_trio.soak.leaks import SecretScanner, pem_body_lines
from thalex_trio.soak.schedule import FaultKind

if TYPE_CHECKING:
    from pathlib import Path

S = 1_000_000_000  # ns per second


def snap(
    t_s: float, ids: set[int], *, session_start_s: float = 0.0, connected: bool = True
) -> SimSnapshot:
    return SimSnapshot(int(t_s * S), int(session_start_s * S), connected, frozenset(ids))


# -- the bot's view against the simulator's ----------------------------------------------------


def test_the_bot_view_replays_events_and_forgets_orders_of_older_sessions() -> None:
    events = [
        BotOrderEvent(1 * S, 1, "open"),
        BotOrderEvent(2 * S, 2, "open"),
        BotOrderEvent(3 * S, 1, "terminal"),
        BotOrderEvent(6 * S, 3, "open"),
    ]
    view = BotView(events)
    assert view.open_at(2 * S, 0) == {1, 2}
    assert view.open_at(4 * S, 0) == {2}
    assert view.open_at(7 * S, 5 * S) == {3}  # order 2 belonged to the session before


def test_short_differences_pass_and_lasting_ones_fail() -> None:
    events = [BotOrderEvent(1 * S, 1, "open"), BotOrderEvent(int(1.5 * S), 1, "terminal")]
    # The simulator saw order 1 go a little before the bot did: fine.
    snaps = [snap(1.1, {1}), snap(1.4, set()), snap(1.6, set())]
    assert views_agree(snaps, events, persist_s=2.0).passed
    # An order only the simulator has, for 3 s while connected: the bot lost track of it.
    lasting = [snap(t, {9}) for t in (2.0, 3.0, 4.0, 5.0)]
    result = views_agree(lasting, events, persist_s=2.0)
    assert not result.passed
    assert "order 9 was in only the simulator's view" in result.detail


def test_differences_while_disconnected_are_not_held_against_the_bot() -> None:
    events = [BotOrderEvent(1 * S, 1, "open")]
    snaps = [snap(2.0, {1})] + [snap(t, set(), connected=False) for t in (3.0, 5.0, 8.0)]
    snaps.append(snap(9.0, set(), session_start_s=8.5))
    assert views_agree(snaps, events, persist_s=2.0).passed


# -- fills, position, memory, coverage ---------------------------------------------------------


def test_fills_must_be_stored_exactly_once() -> None:
    assert fills_exactly_once(["a", "b"], ["b", "a"]).passed
    detail = fills_exactly_once(["a", "b"], ["a"], {"b": "buy 1 lots at t=9.0s"}).detail
    assert "1 missing from the store: b (buy 1 lots at t=9.0s)" in detail
    assert "stored more than once" in fills_exactly_once(["a"], ["a", "a"]).detail
    assert "stored but never made" in fills_exactly_once(["a"], ["a", "z"]).detail


def test_positions_must_agree_everywhere() -> None:
    assert positions_agree(3, 3, 3).passed
    result = positions_agree(3, 2, None)
    assert not result.passed
    assert "store 2 lots" in result.detail
    assert "bot's summary None lots" in result.detail


def test_memory_within_the_factor_passes_and_unmeasured_fails() -> None:
    assert memory_bounded(100 * 2**20, 140 * 2**20, 1.5).passed
    assert not memory_bounded(100 * 2**20, 160 * 2**20, 1.5).passed
    assert not memory_bounded(None, 160 * 2**20, 1.5).passed


def test_every_kind_asked_for_must_happen() -> None:
    kinds = [FaultKind.DELAY, FaultKind.PARTITION]
    assert every_kind_injected(kinds, [FaultKind.PARTITION, FaultKind.DELAY]).passed
    result = every_kind_injected(kinds, [FaultKind.DELAY])
    assert not result.passed
    assert "partition" in result.detail


# -- secrets -----------------------------------------------------------------------------------

PEM = """-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj
MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu
Zm9v
-----END PRIVATE KEY-----
"""


def test_pem_body_lines_are_the_needles() -> None:
    lines = pem_body_lines(PEM)
    assert len(lines) == 2  # the short tail line could match by chance
    assert all(line.startswith("M") for line in lines)


def test_the_scanner_finds_a_key_line_or_the_password_anywhere(tmp_path: Path) -> None:
    secrets = {"key line 2": pem_body_lines(PEM)[1], "DSN password": "s3cr3t-Pa55"}
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "bot.log").write_text("connected to host=/tmp user=bot\n")
    scanner = SecretScanner(secrets)
    scanner.scan_tree(tmp_path)
    scanner.scan_text("store row", "(1,run,order 5)")
    assert scanner.result("test").passed
    (tmp_path / "logs" / "journal.jsonl").write_text('["dsn", "password=s3cr3t-Pa55"]\n')
    scanner.scan_tree(tmp_path)
    scanner.scan_text("store row", f"(2,{pem_body_lines(PEM)[1]})")
    result = scanner.result("test")
    assert not result.passed
    assert "DSN password in" in result.detail
    assert "key line 2 in store row" in result.detail


# -- the bot's output --------------------------------------------------------------------------


def test_the_exit_summary_and_log_lines_are_read() -> None:
    table = parse_summary_table(
        "noise\n"
        "--------------\n"
        "mode                      live\n"
        "orders cancelled at exit  yes\n"
        "position                  -0.003\n"
        "--------------\n"
    )
    assert table == {"mode": "live", "orders cancelled at exit": "yes", "position": "-0.003"}
    line = parse_log_line('{"ts": 12.5, "level": "INFO", "logger": "x", "msg": "hello"}')
    assert (line.level, line.logger, line.message, line.time_s) == ("INFO", "x", "hello", 12.5)
    raw = parse_log_line("Traceback (most recent call last):")
    assert raw.level == "RAW"
