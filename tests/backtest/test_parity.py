"""Parity: a recording replayed through the simulator server, traded by the live bot over the
Thalex protocol (`live --network sim` in memory, the market at 10x speed on virtual time), and
the same recording read by the backtest with zero latency give the same fills for the same
orders.

The orders are the ones the bot sent: every engine call the simulator made (sessions opened,
cancel-on-disconnect, each request at the engine time it arrived, sessions closed) is
recorded and then replayed, at the same engine times, into a fresh matching engine fed by the
backtest's reader (`open_event_stream`, no feed latency). Both engines have zero order
latency, so every request takes effect at the engine time the simulator stamped on it.

Tolerance for timing: none is needed, and none is allowed. The simulator applies market events
up to its clock and a request at its arrival time; the engine's results do not depend on where
time is cut into steps (the book kernel recentres its window at fixed points of the stream), so
fills must agree exactly: same order, side, price, size, liquidity and exchange time. The
comparison is against the fills as the bot recorded them after the trip through the wire
(JSON floats back to ticks and lots), so it also covers the protocol translation.
"""

from __future__ import annotations

import functools
import random
from typing import TYPE_CHECKING

import pytest
from attrs import frozen

from tests.runtime.harness import KEY_ID, URL, make_context, wall_clock
from tests.thalex.keys import private_pem, rsa_key
from thalex_trio.backtest.readers import open_event_stream
from thalex_trio.domain.events import FillEvent, StoreEvent
from thalex_trio.risk.limits import RiskLimits
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.session_task import SessionSpec, run_session
from thalex_trio.runtime.supervisor import run_supervised
from thalex_trio.runtime.venue import LiveVenue
from thalex_trio.sim.engine.engine import MatchingEngine
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.engine.reports import OrderNotice, SessionId
from thalex_trio.sim.engine.requests import Request
from thalex_trio.sim.server.config import Replay, SimServerConfig
from thalex_trio.sim.server.server import open_sim_server
from thalex_trio.strategy.params import StrategyParams
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.thalex.credentials import Credentials, Secret

from .conftest import GOLDEN_FILE

if TYPE_CHECKING:
    import trio.testing

    from thalex_trio.domain.fill import Fill
    from thalex_trio.domain.instrument import Instrument

pytestmark = pytest.mark.slow

SPEED = 10.0
DURATION_S = 10.0  # 100 s of the 3-minute recording
# Quotes at the touch on BTCUSDT's 0.1 grid, small enough for the risk limits below.
STRATEGY = StrategyParams(
    gamma_per_tick=0.01,
    levels_per_side=2,
    level_spacing_ticks=1.0,
    size_lots=5,
    position_limit_lots=40,
    min_half_spread_ticks=0.5,
    fallback_sigma_ticks_per_sqrt_s=20.0,
    fallback_a_per_s=2.0,
    fallback_k_per_tick=0.5,
)
LIMITS = RiskLimits(max_position_lots=50, max_exposure_lots=100, max_order_lots=50)


@frozen
class EngineCall:
    """One call the simulator made on its engine, at engine time `time_ns`."""

    time_ns: int
    kind: str  # "open", "cancel_on_disconnect", "submit" or "close"
    session: SessionId | None = None
    request: Request | None = None


class _Collector:
    """An `EventSink` keeping the bot's fills as it recorded them."""

    def __init__(self) -> None:
        self.fills: list[Fill] = []

    def emit(self, event: StoreEvent) -> None:
        if isinstance(event, FillEvent):
            self.fills.append(event.fill)


def _record_calls(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[EngineCall]]:
    """Wrap the engine's session and request calls; returns the log by engine id."""
    log: dict[int, list[EngineCall]] = {}
    open_session = MatchingEngine.open_session
    set_cod = MatchingEngine.set_cancel_on_disconnect
    submit = MatchingEngine.submit
    close_session = MatchingEngine.close_session

    def calls(engine: MatchingEngine) -> list[EngineCall]:
        return log.setdefault(id(engine), [])

    def rec_open(self: MatchingEngine) -> SessionId:
        sid = open_session(self)
        calls(self).append(EngineCall(self.now_ns, "open", sid))
        return sid

    def rec_cod(self: MatchingEngine, session_id: SessionId) -> None:
        calls(self).append(EngineCall(self.now_ns, "cancel_on_disconnect", session_id))
        set_cod(self, session_id)

    def rec_submit(
        self: MatchingEngine, session_id: SessionId, request: Request, now_ns: int
    ) -> object:
        calls(self).append(EngineCall(now_ns, "submit", session_id, request))
        return submit(self, session_id, request, now_ns)

    def rec_close(self: MatchingEngine, session_id: SessionId, now_ns: int) -> None:
        calls(self).append(EngineCall(now_ns, "close", session_id))
        close_session(self, session_id, now_ns)

    monkeypatch.setattr(MatchingEngine, "open_session", rec_open)
    monkeypatch.setattr(MatchingEngine, "set_cancel_on_disconnect", rec_cod)
    monkeypatch.setattr(MatchingEngine, "submit", rec_submit)
    monkeypatch.setattr(MatchingEngine, "close_session", rec_close)
    return log


def _replay(instrument: Instrument, calls: list[EngineCall], end_ns: int) -> list[Fill]:
    """The recorded calls against the backtest's reading of the recording; our fills."""
    stream = open_event_stream(
        [GOLDEN_FILE],
        instrument_name=instrument.name,
        tick_size=instrument.tick_size,
        lot_size=instrument.volume_tick_size,
        feed_latency_ns=0,
    )
    engine = MatchingEngine([instrument], EngineParams())
    for chunk in stream.chunks():
        engine.feed(instrument.name, chunk)
    fills: list[Fill] = []

    def collect() -> None:
        for report in engine.drain_reports():
            if isinstance(report, OrderNotice):
                fills.extend(report.report.update.fills)

    sessions: dict[SessionId, SessionId] = {}
    for call in calls:
        engine.advance_to(call.time_ns)
        collect()
        if call.kind == "open":
            assert call.session is not None
            sessions[call.session] = engine.open_session()
        else:
            assert call.session is not None
            sid = sessions[call.session]
            if call.kind == "cancel_on_disconnect":
                engine.set_cancel_on_disconnect(sid)
            elif call.kind == "submit":
                assert call.request is not None
                engine.submit(sid, call.request, call.time_ns)
            else:
                engine.close_session(sid, call.time_ns)
    engine.advance_to(end_ns)
    collect()
    return fills


async def test_sim_replay_and_backtest_fill_the_same_orders_alike(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _record_calls(monkeypatch)
    ctx = make_context(LIMITS)
    collector = _Collector()
    ctx.sink = collector
    config = SimServerConfig(
        listen=False,
        wall_clock=wall_clock,
        market=Replay(str(GOLDEN_FILE)),
        speed=SPEED,
        engine=EngineParams(),
        status_interval_s=3600.0,
    )
    async with open_sim_server(config, public_keys={KEY_ID: rsa_key().public_key()}) as server:
        engine = server.core.engine
        instrument = engine.instrument(config.instrument)
        server.core.fill_log = []
        spec = SessionSpec(
            endpoint=URL,
            credentials=Credentials(KEY_ID, Secret(private_pem())),
            instrument_name=config.instrument,
            underlying="BTCUSD",
            connect=server.connect_memory,
            wall_clock_s=wall_clock,
        )
        code = await run_supervised(
            ctx,
            functools.partial(
                run_session, ctx, spec, LiveVenue, functools.partial(Quoter, strategy=STRATEGY)
            ),
            duration_s=DURATION_S,
            rng=random.Random(0),
        )
        assert code == Outcome.OK
        server.core.step()  # apply what arrived during the bot's exit
        end_ns = engine.now_ns
        server_fills = [fill for _, fill in server.core.fill_log]
    monkeypatch.undo()
    calls = log[id(engine)]
    assert sum(call.kind == "submit" for call in calls) > 50
    bot_fills = collector.fills
    assert len(bot_fills) >= 5  # enough to compare
    replayed = _replay(instrument, calls, end_ns)

    def key(fill: Fill) -> tuple[object, ...]:
        return (
            fill.client_order_id,
            fill.side,
            fill.price_ticks,
            fill.amount_lots,
            fill.liquidity,
            fill.time_ns,
        )

    assert [key(f) for f in replayed] == [key(f) for f in server_fills]
    # The bot saw every fill the engine made, translated back from the wire unchanged.
    assert sorted(map(key, bot_fills), key=repr) == sorted(map(key, replayed), key=repr)
