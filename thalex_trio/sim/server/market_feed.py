"""Feeds the engine from a market source ahead of engine time, and holds back its trade prints.

The source is an iterator of event chunks (synthetic or replay). Chunks are fed while the fed
horizon is less than `lookahead_ns` ahead of the time asked for, so the engine always holds
the events it is about to apply. Trade prints are copied out at feed time and handed to the
publisher's tape once engine time passes them.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

from attrs import frozen

from thalex_trio.sim.events import TRADE_EVENT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from thalex_trio.sim.engine.engine import MatchingEngine
    from thalex_trio.sim.events import Events

LOOKAHEAD_NS = 2_000_000_000
"""How far past engine time the market is fed."""


@frozen
class TapePrint:
    """A public trade print: aggressor side +1 buy / -1 sell."""

    time_ns: int
    price_ticks: int
    amount_lots: int
    side: int


class MarketFeed:
    """One instrument's event stream into the engine; `exhausted` once a replay ends."""

    def __init__(
        self, engine: MatchingEngine, instrument_name: str, chunks: Iterator[Events]
    ) -> None:
        self._engine = engine
        self._name = instrument_name
        self._chunks = chunks
        self.fed_through_ns: int | None = None
        self.exhausted = False
        self._pending: collections.deque[TapePrint] = collections.deque()
        self.first_event_ns: int | None = None

    def first_time_ns(self) -> int | None:
        """Time of the first event (feeds the first chunk if needed); None for no events."""
        if self.fed_through_ns is None:
            self._feed_one()
        return self.first_event_ns

    def feed_through(self, t_ns: int) -> None:
        """Feed chunks until the fed horizon is `LOOKAHEAD_NS` past `t_ns` (or the source ends)."""
        while not self.exhausted and (
            self.fed_through_ns is None or self.fed_through_ns < t_ns + LOOKAHEAD_NS
        ):
            self._feed_one()

    def _feed_one(self) -> None:
        chunk = next(self._chunks, None)
        if chunk is None:
            self.exhausted = True
            return
        if chunk.shape[0] == 0:
            return
        if self.first_event_ns is None:
            self.first_event_ns = int(chunk["exch_ts_ns"][0])
        self._engine.feed(self._name, chunk)
        self.fed_through_ns = int(chunk["exch_ts_ns"][-1])
        trades = chunk[chunk["kind"] == TRADE_EVENT]
        for ts, price, lots, side in zip(
            trades["exch_ts_ns"].tolist(),
            trades["price_ticks"].tolist(),
            trades["amount_lots"].tolist(),
            trades["side"].tolist(),
            strict=True,
        ):
            self._pending.append(TapePrint(ts, price, lots, side))

    def take_trades(self, up_to_ns: int) -> list[TapePrint]:
        """Trades printed at or before `up_to_ns` not taken before, oldest first."""
        out: list[TapePrint] = []
        pending = self._pending
        while pending and pending[0].time_ns <= up_to_ns:
            out.append(pending.popleft())
        return out
