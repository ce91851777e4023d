"""Every kernel the quoter calls is compiled (or loaded from numba's cache) when its module is
imported, so that no decision waits for numba: a kernel compiled on its first call stalled the
quote loop, and with it the whole Trio thread, for 25 ms from the cache and for seconds on a
fresh machine, the first time an estimator refit ran in the middle of a live run."""

from __future__ import annotations

from numba.core.registry import CPUDispatcher

from tests.strategy.synthetic import FAST_REFITS, synthetic_market
from thalex_trio.domain.enums import InstrumentKind, Side
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import BookLevel, TopOfBook, Trade
from thalex_trio.kernels import avellaneda_stoikov, glft, intensity, ladder, volatility
from thalex_trio.strategy.market_state import Exposure
from thalex_trio.strategy.params import QuoteModel, StrategyParams
from thalex_trio.strategy.quoter import Quoter

NAME = "BTC-PERPETUAL"
INSTRUMENT = Instrument(NAME, InstrumentKind.PERPETUAL, "BTCUSD", 1.0, 0.001, 0.001)
T0 = 1_700_000_000_000_000_000


def kernel_signatures() -> dict[str, int]:
    """Compiled signatures of each public numba kernel of `thalex_trio.kernels`."""
    found: dict[str, int] = {}
    for module in (avellaneda_stoikov, glft, intensity, ladder, volatility):
        for name, kernel in vars(module).items():
            if isinstance(kernel, CPUDispatcher) and not name.startswith("_"):
                found[f"{module.__name__}.{name}"] = len(kernel.signatures)
    return found


def run_every_estimator(model: QuoteModel) -> None:
    """A quoter through warm-up, every estimator's refit (own fills included) and `model`."""
    strategy = StrategyParams(model=model, levels_per_side=2, position_limit_lots=10)
    quoter = Quoter(INSTRUMENT, strategy, FAST_REFITS)
    for i, event in enumerate(synthetic_market(11, 40.0, 0.1, 2.0, 3.0, 0.8, start_ns=T0)):
        if event.is_trade:
            side = Side.BUY if event.buyer else Side.SELL
            quoter.on_trade(Trade(NAME, round(event.price_ticks), 1, side, event.time_ns))
            continue
        mid = round(event.price_ticks)
        quoter.on_top_of_book(
            TopOfBook(NAME, BookLevel(mid - 1, 5), BookLevel(mid + 1, 5), event.time_ns)
        )
        ladder_now = quoter.decide(event.time_ns, Exposure(position_lots=i % 5 - 2))
        if i % 7 == 0 and ladder_now.bids:
            quoter.on_own_fill(Side.BUY, event.time_ns)
            quoter.on_own_fill(Side.SELL, event.time_ns)
    assert quoter.own_bid.total_fills >= FAST_REFITS.own_fill_min_fills  # the MLE refit ran


def test_every_kernel_is_compiled_at_import_and_a_session_compiles_nothing_more() -> None:
    at_import = kernel_signatures()
    assert len(at_import) >= 10
    assert all(count == 1 for count in at_import.values()), at_import
    for model in QuoteModel:
        run_every_estimator(model)
    assert kernel_signatures() == at_import
