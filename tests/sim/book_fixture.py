"""A small deterministic market for engine tests: tick 1, lot 0.001 (min 0.001)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.engine.reports import (
    OrderNotice,
    OrderReport,
    Report,
    RequestResult,
    SessionId,
)
from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    TRADE_EVENT,
    Events,
    empty_events,
)

if TYPE_CHECKING:
    from thalex_trio.sim.engine.requests import Request

PERP = Instrument("BTC-PERPETUAL", InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)
T0 = 1_000_000_000_000


def events(rows: list[tuple[int, int, int, int, int]]) -> Events:
    """Events from (kind, side, ts, price_ticks, lots) rows; each row is its own message."""
    out = empty_events(len(rows))
    for i, (kind, side, ts, price, lots) in enumerate(rows):
        out[i] = (kind, side, END_OF_MESSAGE_FLAG, ts, ts, price, lots, 0.0)
    return out


def snapshot(ts: int = T0, bid: int = 100, ask: int = 101, lots: int = 10) -> Events:
    """Five levels a side from `bid` down and `ask` up, `lots` each."""
    rows = [(DEPTH_CLEAR_EVENT, 0, ts, 0, 0)]
    rows += [(DEPTH_SNAPSHOT_EVENT, 1, ts, bid - i, lots) for i in range(5)]
    rows += [(DEPTH_SNAPSHOT_EVENT, -1, ts, ask + i, lots) for i in range(5)]
    return events(rows)


def depth(ts: int, side: int, price: int, lots: int) -> Events:
    return events([(DEPTH_EVENT, side, ts, price, lots)])


def trade(ts: int, aggressor: int, price: int, lots: int) -> Events:
    return events([(TRADE_EVENT, aggressor, ts, price, lots)])


class Harness:
    """An engine over `PERP` with one session; `call` submits and returns the RPC result."""

    def __init__(self, params: EngineParams | None = None, *, persistent: bool = True) -> None:
        self.engine = MatchingEngine([PERP], params or EngineParams(book_window_ticks=4096))
        self.engine.feed(PERP.name, snapshot())
        self.engine.advance_to(T0)
        self.session: SessionId = self.engine.open_session()
        if not persistent:
            self.engine.set_cancel_on_disconnect(self.session)
        self.reports: list[Report] = []

    def call(self, request: Request, session: SessionId | None = None) -> RequestResult:
        sid = self.session if session is None else session
        rid = self.engine.submit(sid, request, self.engine.now_ns)
        self.engine.advance_to(self.engine.now_ns)
        self.drain()
        while not (
            found := [
                r for r in self.reports if isinstance(r, RequestResult) and r.request_id == rid
            ]
        ):
            wake = self.engine.next_wakeup_ns()
            assert wake is not None
            self.engine.advance_to(max(wake, self.engine.now_ns))
            self.drain()
        assert len(found) == 1
        return found[0]

    def market(self, evs: Events) -> None:
        self.engine.feed(PERP.name, evs)
        self.engine.advance_to(int(evs["exch_ts_ns"][-1]))
        self.drain()

    def drain(self) -> None:
        self.reports.extend(self.engine.drain_reports())

    def notices(self) -> list[OrderReport]:
        return [r.report for r in self.reports if isinstance(r, OrderNotice)]


def order_report(result: RequestResult) -> OrderReport:
    """The OrderReport outcome of an insert/amend/cancel result."""
    assert result.error is None, result.error
    assert isinstance(result.outcome, OrderReport)
    return result.outcome
