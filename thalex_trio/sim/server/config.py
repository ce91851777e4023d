"""What `open_sim_server` runs: address, market, keys, faults, engine."""

from __future__ import annotations

import glob
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from attrs import evolve, field, frozen

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.sim.engine.params import EngineParams
from thalex_trio.sim.market.binance import BinanceReplay
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket
from thalex_trio.sim.server.faults import FaultPlan

_NO_FAULTS = FaultPlan()

if TYPE_CHECKING:
    from collections.abc import Iterator

    from thalex_trio.sim.events import Events

SYNTHETIC_HORIZON_S = 10 * 365 * 86_400.0
"""The synthetic market is generated lazily for this long (in effect, forever)."""

CHUNK_S = 1.0
"""Seconds of synthetic market per chunk fed to the engine."""


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

    USD-M captures (`btcusdt_*`) have tick 0.1 and lot 0.001; COIN-M (`btcusd_perp_*`) lot 1.
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
    wall_clock: Callable[[], float] = time.time
    """Seconds since the epoch: JWT `iat` checks and the synthetic market's start time."""

    @speed.validator
    def _check_speed(self, _attribute: object, value: float) -> None:
        if not value > 0:
            raise ValueError(f"speed must be > 0, got {value!r}")


def open_market(config: SimServerConfig) -> tuple[Instrument, Iterator[Events], int | None]:
    """The instrument, its event chunks, and the engine start time (None: first event's)."""
    market = config.market
    match market:
        case Synthetic():
            start_ns = int(config.wall_clock() * 1e9) // 1_000_000 * 1_000_000
            base = market.params or SyntheticParams(seed=config.seed, options=None)
            params = evolve(base, instrument_name=config.instrument, start_ns=start_ns)
            source = SyntheticMarket(params)
            # Printed so an estimator's output can be checked against the truth (MODELS.md §4).
            _log.info(
                "synthetic market %s: known %s",
                params.instrument_name,
                ", ".join(f"{k}={v:g}" for k, v in source.known_parameters().items()),
            )
            return source.instrument(), source.chunks(SYNTHETIC_HORIZON_S, CHUNK_S), start_ns
        case Replay():
            files = market.files()
            coin_margined = any("usd_perp" in f.name for f in files)
            lot = market.lot_size or (1.0 if coin_margined else 0.001)
            instrument = Instrument(
                config.instrument, InstrumentKind.PERPETUAL, "BTCUSD", market.tick_size, lot, lot
            )
            replay = BinanceReplay(market.tick_size, lot)
            return instrument, replay.read_files(files), None
