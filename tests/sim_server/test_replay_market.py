"""The simulator's replay market: one Binance symbol, on that symbol's grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thalex_trio.sim.events import TRADE_EVENT
from thalex_trio.sim.server.config import Replay, SimServerConfig, open_market

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "binance-btc-perp"
USDT = DATA / "btcusdt_20240718.gz"  # BTCUSDT near 64,000
COIN = DATA / "btcusd_perp_20240808.gz"  # BTCUSD_PERP near 61,500


@pytest.mark.parametrize(
    ("first", "second", "lot", "price_range"),
    [(USDT, COIN, 0.001, (630_000, 650_000)), (COIN, USDT, 1.0, (600_000, 630_000))],
)
def test_replay_takes_the_first_files_symbol_and_its_lot(
    tmp_path: Path, first: Path, second: Path, lot: float, price_range: tuple[int, int]
) -> None:
    # Names that say nothing: the symbol comes from the data.
    (tmp_path / "1.gz").symlink_to(first)
    (tmp_path / "2.gz").symlink_to(second)
    opened = open_market(SimServerConfig(market=Replay(str(tmp_path)), listen=False))
    assert opened.instrument.volume_tick_size == lot
    events = np.concatenate(list(opened.chunks))
    trades = events[events["kind"] == TRADE_EVENT]
    assert trades.shape[0] > 0
    low, high = price_range
    assert ((trades["price_ticks"] > low) & (trades["price_ticks"] < high)).all()
