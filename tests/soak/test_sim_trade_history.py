"""The simulator's `private/trade_history` honours `time_low`, `time_high`, `limit` and the
bookmark, as a bot catching up on fills after a reconnect relies on (the soak found the
simulator returning the oldest page instead)."""

from __future__ import annotations

import math

import trio

from ..sim_server.harness import open_test_server
from ..sim_server.test_protocol import call, code
from .test_sim_faults import CROSSING_BUY, login


async def test_trade_history_filters_by_time_and_pages(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_test_server() as server, server.connect_memory() as ws:
        with trio.fail_after(10):
            await login(ws)
            assert code(await call(ws, "private/insert", CROSSING_BUY, 1)) is None
            await trio.sleep(3.0)
            for rpc_id in (2, 3):
                assert code(await call(ws, "private/insert", CROSSING_BUY, rpc_id)) is None
            everything = (await call(ws, "private/trade_history", {"sort": "ascending"}, 4))[
                "result"
            ]
            assert isinstance(everything, dict)
            trades = everything["trades"]
            assert len(trades) == 3
            assert everything.get("bookmark") is None
            first_s = trades[0]["time"]
            later = {"sort": "ascending", "time_low": math.floor(first_s) + 1}
            recent = (await call(ws, "private/trade_history", later, 5))["result"]
            assert isinstance(recent, dict)
            assert [t["trade_id"] for t in recent["trades"]] == [t["trade_id"] for t in trades[1:]]
            early = {"sort": "ascending", "time_high": math.floor(first_s) + 1}
            old = (await call(ws, "private/trade_history", early, 6))["result"]
            assert isinstance(old, dict)
            assert [t["trade_id"] for t in old["trades"]] == [trades[0]["trade_id"]]
            page = (await call(ws, "private/trade_history", {"limit": 2}, 7))["result"]
            assert isinstance(page, dict)
            newest_first = [t["trade_id"] for t in reversed(trades)]
            assert [t["trade_id"] for t in page["trades"]] == newest_first[:2]
            rest = {"limit": 2, "bookmark": page["bookmark"]}
            last = (await call(ws, "private/trade_history", rest, 8))["result"]
            assert isinstance(last, dict)
            assert [t["trade_id"] for t in last["trades"]] == newest_first[2:]
            assert last.get("bookmark") is None
