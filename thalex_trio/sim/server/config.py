"""What `open_sim_server` runs: address, market, keys, faults, engine."""

from __future__ import annotations

import glob
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from attrs import evolve, field, frozen

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.events import Events
from thalex_trio.sim.market.binance import BinanceReplay, capture_symbol
from thalex_trio.sim.market.params import OptionChainParams, SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket
from thalex_trio.sim.server.faults import FaultPlan
from thalex_trio.sim.server.options import OptionChain, listed_chain

_NO_FAULTS = FaultPlan()

SYNTHETIC_HORIZON_S = 10 * 365 * 86_400.0
"""The synthetic market is generated lazily for this long (in effect, forever)."""

CHUNK_S = 1.0
"""Seconds of synthetic market per chunk fed to the engine."""

SIM_COLLAR_FRACTION = 0.05
"""The simulator's price collar: 5% either side of the mark. Thalex does not publish its
collar widths (API.md §14); this one only catches prices that are plainly wrong."""

SIM_OPTION_CHAIN = OptionChainParams(
    expiry_days=(2, 8, 15), strikes_each_side=3, strike_step=1000.0, iv=0.5, smile=2.0
)
"""The default synthetic market's chain: 7 strikes 1000 apart around the money, calls and puts.

The generator lists expiry `d` on the daily 08:00 UTC grid as the (d-1)th after the next one,
so `d` is between d-1 and d days out: 2 and 8 guarantee an expiry at least 1 and at least 7
days out (the expected-move signal's default `options_min_days` is 7), 15 a farther one.
"""


_log = logging.getLogger("thalex_trio.sim")


@frozen
class Synthetic:
    """The seeded synthetic market; `params` None means the defaults for the seed."""

    params: SyntheticParams | None = None

    def __str__(self) -> str:
        return "synthetic"


@frozen
class Replay:
    """Recorded Binance captures (a file, a directory of `*.gz`, or a glob), in order.

    USD-M captures (BTCUSDT) have tick 0.1 and lot 0.001; COIN-M (BTCUSD_PERP) lot 1. One
    symbol is replayed, the first file's: lines of others are skipped.
    """

    path: str
    tick_size: float = 0.1
    lot_size: float | None = None

    def files(self) -> list[Path]:
        """The capture files, sorted by name."""
        path = Path(self.path)
        if path.is_dir():
            return sorted(path.glob("*.gz"))
        return [Path(p) for p in sorted(glob.glob(self.path))]

    def __str__(self) -> str:
        return f"replay:{self.path}"


Market = Synthetic | Replay


def parse_market(text: str) -> Market:
    """`synthetic` or `replay:PATH`; raises ValueError."""
    if text == "synthetic":
        return Synthetic()
    if text.startswith("replay:") and len(text) > len("replay:"):
        replay = Replay(text.removeprefix("replay:"))
        if not replay.files():
            raise ValueError(f"no capture files at {replay.path!r}")
        return replay
    raise ValueError(f"{text!r}: expected synthetic or replay:PATH")


@frozen
class SimServerConfig:
    """Everything the simulator needs; the defaults give a quiet synthetic BTC perpetual."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 0
    market: Market = Synthetic()
    speed: float = field(default=1.0)
    instrument: str = "BTC-PERPETUAL"
    keys_dir: Path | None = None
    """Where the development key lives (made on first run); None: only registered keys."""
    faults: FaultPlan = _NO_FAULTS
    account_number: str = "A000000001"
    status_interval_s: float = 5.0
    listen: bool = True
    """False serves only in-memory connections (tests)."""
    engine: EngineParams | None = None
    """None: `EngineParams(seed=seed, collar_fraction=SIM_COLLAR_FRACTION)`."""
    wall_clock: Callable[[], float] = time.time
    """Seconds since the epoch: JWT `iat` checks and the synthetic market's start time."""
    option_chain: OptionChainParams | None = SIM_OPTION_CHAIN
    """The chain of the default synthetic market (`Synthetic()`); None lists no options.
    A `Synthetic(params)` brings its own `params.options`; a replay lists none."""

    @speed.validator
    def _check_speed(self, _attribute: object, value: float) -> None:
        if not value > 0:
            raise ValueError(f"speed must be > 0, got {value!r}")


@frozen
class OpenedMarket:
    """What `open_market` gives the server."""

    instrument: Instrument
    """The traded perpetual."""
    chunks: Iterator[Events]
    start_ns: int | None
    """Engine start time; None: the first event's."""
    options: OptionChain | None
    """Options listed for market data (synthetic markets with a chain), marked on the
    perpetual's forward."""


def open_market(config: SimServerConfig) -> OpenedMarket:
    """The instrument, its event chunks, the engine start time and the listed options."""
    market = config.market
    match market:
        case Synthetic():
            start_ns = int(config.wall_clock() * 1e9) // 1_000_000 * 1_000_000
            base = market.params or SyntheticParams(seed=config.seed, options=config.option_chain)
            params = evolve(base, instrument_name=config.instrument, start_ns=start_ns)
            source = SyntheticMarket(params)
            # Printed so an estimator's output can be checked against the truth (MODELS.md §4).
            _log.info(
                "synthetic market %s: known %s",
                params.instrument_name,
                ", ".join(f"{k}={v:g}" for k, v in source.known_parameters().items()),
            )
            # Listed before the stream starts: the chain around the opening forward.
            options = listed_chain(source, params.instrument_name)
            if options is not None:
                _log.info("listing %d options (market data only)", len(options.instruments))
            chunks = source.chunks(SYNTHETIC_HORIZON_S, CHUNK_S)
            return OpenedMarket(source.instrument(), chunks, start_ns, options)
        case Replay():
            files = market.files()
            # One symbol is replayed: the first file's (the others' lines are skipped).
            symbol = capture_symbol(files[0]) if files else None
            coin_margined = symbol is not None and symbol.endswith("_PERP")
            lot = market.lot_size or (1.0 if coin_margined else 0.001)
            instrument = Instrument(
                config.instrument, InstrumentKind.PERPETUAL, "BTCUSD", market.tick_size, lot, lot
            )
            replay = BinanceReplay(market.tick_size, lot, symbol=symbol)
            return OpenedMarket(instrument, replay.read_files(files), None, None)
