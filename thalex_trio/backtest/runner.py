"""One backtest end to end: configuration + data files -> result and summary document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from thalex_trio.backtest.driver import BacktestDriver, BacktestResult
from thalex_trio.backtest.readers import NoMarketData, open_event_stream
from thalex_trio.backtest.summary import summarise

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from thalex_trio.backtest.settings import BacktestConfig
    from thalex_trio.backtest.store_events import RunEvents
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.sim.events import Events


def run_backtest(
    config: BacktestConfig,
    paths: Sequence[Path],
    *,
    progress: Callable[[int, int], None] | None = None,
    limit_chunks: Callable[[Iterable[Events]], Iterable[Events]] | None = None,
    record: RunEvents | None = None,
) -> tuple[BacktestResult, dict[str, object]]:
    """Replay `paths` under `config`; returns the result and its summary document.

    `limit_chunks` may wrap the chunk stream (tests use it to replay a slice); `record`
    collects the run's store events. Raises NoMarketData when the data held no event of the
    instrument, and the readers' errors (UnknownFormat, ReplayDataError) for data they refuse.
    """
    app, params = config.app, config.backtest
    instrument = instrument_of(config)
    stream = open_event_stream(
        paths,
        instrument_name=instrument.name,
        tick_size=params.tick_size,
        lot_size=params.lot_size,
        underlying=app.instrument.underlying,
        feed_latency_ns=params.feed_latency_ns,
    )
    chunks: Iterable[Events] = stream.chunks()
    if limit_chunks is not None:
        chunks = limit_chunks(chunks)
    driver = BacktestDriver(app, params, instrument, record=record)
    result = driver.run(chunks, reader_counters=stream.counters, progress=progress)
    if result.events == 0:
        names = ", ".join(p.name for p in paths)
        raise NoMarketData(f"nothing to replay in {names}: {stream.why_empty()}")
    doc = summarise(result, extra={"files": [p.name for p in paths], "format": stream.format.value})
    return result, doc


def instrument_of(config: BacktestConfig) -> Instrument:
    """The instrument a backtest quotes: the configured name on the data's grid."""
    app = config.app
    return config.backtest.instrument(app.instrument.name, app.instrument.underlying)
