"""The seeded synthetic market: known sigma, A and k, served as normalised engine events.

Per step of `step_ms`: market orders arrive per side as a Poisson process of rate A whose reach
beyond the mid is exponential with rate k, so orders reach depth delta or beyond at rate
A exp(-k delta) (MODELS.md §4). An order prints a trade at every displayed level it reaches,
taking the level. It also goes to the engine as a `MARKET_ORDER_EVENT` (not published) that
first fills every quote of ours within its reach inside the market's spread, so a quote there
at depth delta fills at rate A exp(-k delta) however wide the spread is. Then the mid
(continuous, in ticks) moves by a Gaussian step of `sigma * sqrt(dt)` (times the regime's
multiplier, plus drift and Poisson jumps) and the book is re-laid around it (best bid =
floor(mid - half_spread), best ask = ceil(mid + half_spread), `depth_levels` per side with the
configured profile; levels emptied by trades refill with `refill_probability` per step).

Orders come before the re-lay so that the book published at the end of a step is centred on the
latent mid: with `refill_probability = 1` the observable mid follows the random walk up to tick
rounding, which is what `known_parameters` promises. (Re-laying first left the levels the orders
had just taken empty until the next step, and that transient depletion added several times the
walk's own variance to the sampled mid.) With partial refill, depleted levels shift the
observable mid on purpose: that market's sigma is no longer the walk's alone.
Mark, index and funding rate are emitted every `reference_interval_ms`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.market import Ticker
from thalex_trio.sim.events import (
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    END_OF_MESSAGE_FLAG,
    FUNDING_RATE_EVENT,
    INDEX_EVENT,
    MARK_EVENT,
    MARKET_ORDER_EVENT,
    TRADE_EVENT,
    Events,
    events_from_rows,
)
from thalex_trio.sim.market import black76
from thalex_trio.sim.market.option_listing import expiry_options, listed_expiries_s

if TYPE_CHECKING:
    from collections.abc import Iterator

    from thalex_trio.sim.market.params import SyntheticParams

_NS_PER_S = 10**9
_YEAR_S = 365.0 * 86_400.0

Row = tuple[int, int, int, int, int, float]  # kind, side, ts, price, lots, value


class SyntheticMarket:
    """A deterministic market for a seed; `chunks` yields its event stream."""

    def __init__(self, params: SyntheticParams) -> None:
        self.params = params
        self._rng = np.random.default_rng(params.seed)
        self.mid_ticks = params.initial_price / params.tick_size
        self.time_ns = params.start_ns
        self.regime = params.regimes[0] if params.regimes else None
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._next_reference_ns = params.start_ns
        self._started = False

    def known_parameters(self) -> dict[str, float]:
        """The true sigma (ticks/sqrt s), A (1/s) and k (1/tick) an estimator should recover."""
        p = self.params
        return {
            "sigma_ticks_per_sqrt_s": p.sigma_ticks_per_sqrt_s,
            "arrival_a_per_s": p.arrival_a_per_s,
            "arrival_k_per_tick": p.arrival_k_per_tick,
        }

    def instrument(self) -> Instrument:
        """The perpetual this market trades."""
        p = self.params
        return Instrument(
            p.instrument_name, InstrumentKind.PERPETUAL, p.underlying, p.tick_size,
            p.lot_size, p.lot_size,
        )  # fmt: skip

    # -- the event stream --------------------------------------------------------------------

    def chunks(self, duration_s: float, chunk_s: float = 60.0) -> Iterator[Events]:
        """Events for `duration_s` seconds from the current time, in chunks of `chunk_s`."""
        end_ns = self.time_ns + round(duration_s * _NS_PER_S)
        while self.time_ns < end_ns:
            chunk_end = min(end_ns, self.time_ns + round(chunk_s * _NS_PER_S))
            rows: list[Row] = []
            flags: list[int] = []
            if not self._started:
                self._snapshot(rows, flags)
                self._started = True
            while self.time_ns < chunk_end:
                self._step(rows, flags)
            yield _to_events(rows, flags)

    def _snapshot(self, rows: list[Row], flags: list[int]) -> None:
        self._relay_book()
        ts = self.time_ns
        rows.append((DEPTH_CLEAR_EVENT, 0, ts, 0, 0, 0.0))
        flags.append(0)
        for side, levels in ((1, self._bids), (-1, self._asks)):
            for price, lots in sorted(levels.items()):
                rows.append((DEPTH_SNAPSHOT_EVENT, side, ts, price, lots, 0.0))
                flags.append(0)
        flags[-1] = END_OF_MESSAGE_FLAG

    def _step(self, rows: list[Row], flags: list[int]) -> None:
        p, rng = self.params, self._rng
        dt_s = p.step_ms / 1000.0
        self.time_ns += p.step_ms * 1_000_000
        ts = self.time_ns
        regime = self.regime
        if p.regimes and rng.random() < p.regime_switch_probability:
            regime = self.regime = p.regimes[int(rng.integers(len(p.regimes)))]
        sigma_mult = regime.sigma_mult if regime else 1.0
        drift = regime.drift_ticks_per_s if regime else 0.0
        arrival_mult = regime.arrival_mult if regime else 1.0
        move = drift * dt_s + p.sigma_ticks_per_sqrt_s * sigma_mult * math.sqrt(dt_s) * float(
            rng.standard_normal()
        )
        for _ in range(int(rng.poisson(p.jump_rate_per_s * dt_s))):
            move += p.jump_sigma_ticks * float(rng.standard_normal())
        # Orders before the re-lay: the book published at the step's end is centred on the
        # latent mid (module docstring), and orders reach from the mid the step started at.
        rate = p.arrival_a_per_s * arrival_mult * dt_s
        for side in (1, -1):
            for _ in range(int(rng.poisson(rate))):
                reach = float(rng.exponential(1.0 / p.arrival_k_per_tick))
                self._market_order(rows, flags, ts, side, reach)
        self.mid_ticks = max(self.mid_ticks + move, 2.0 * p.depth_levels + 2.0)
        self._emit_changes(rows, flags, ts)
        if ts >= self._next_reference_ns:
            self._references(rows, flags, ts)
            self._next_reference_ns = ts + p.reference_interval_ms * 1_000_000

    def _relay_book(self) -> None:
        p, rng = self.params, self._rng
        best_bid = math.floor(self.mid_ticks - p.half_spread_ticks)
        best_ask = max(math.ceil(self.mid_ticks + p.half_spread_ticks), best_bid + 1)
        for side, best, book in ((1, best_bid, self._bids), (-1, best_ask, self._asks)):
            old = dict(book)
            book.clear()
            for i in range(p.depth_levels):
                price = best - side * i
                full = round(p.level_lots * (1.0 + p.level_lots_growth * i))
                previous = old.get(price)
                if previous is None or previous > 0 or rng.random() < p.refill_probability:
                    book[price] = full if previous is None or previous == 0 else previous
                else:
                    book[price] = 0

    def _emit_changes(self, rows: list[Row], flags: list[int], ts: int) -> None:
        before = (dict(self._bids), dict(self._asks))
        self._relay_book()
        start = len(rows)
        for side, old, new in ((1, before[0], self._bids), (-1, before[1], self._asks)):
            shown_old = {k: v for k, v in old.items() if v > 0}
            shown_new = {k: v for k, v in new.items() if v > 0}
            # Removals first so that the book never crosses inside one message.
            for price in sorted(set(shown_old) - set(shown_new)):
                rows.append((DEPTH_EVENT, side, ts, price, 0, 0.0))
            for price, lots in sorted(shown_new.items()):
                if shown_old.get(price) != lots:
                    rows.append((DEPTH_EVENT, side, ts, price, lots, 0.0))
        flags.extend([0] * (len(rows) - start))
        if len(rows) > start:
            flags[-1] = END_OF_MESSAGE_FLAG

    def _market_order(
        self, rows: list[Row], flags: list[int], ts: int, side: int, reach: float
    ) -> None:
        book = self._asks if side > 0 else self._bids
        limit = self.mid_ticks + side * reach
        hit = sorted(
            (price for price, lots in book.items() if lots > 0 and side * (limit - price) >= 0),
            key=lambda price: side * price,
        )
        start = len(rows)
        # The order itself, for the engine: it reaches our quotes inside the spread first,
        # where the market's displayed levels alone would let it pass them unseen.
        limit_ticks = math.floor(limit) if side > 0 else math.ceil(limit)
        rows.append((MARKET_ORDER_EVENT, side, ts, limit_ticks, 0, 0.0))
        for price in hit:
            rows.append((TRADE_EVENT, side, ts, price, book[price], 0.0))
            book[price] = 0
        for price in hit:
            rows.append((DEPTH_EVENT, -side, ts, price, 0, 0.0))
        flags.extend([0] * (len(rows) - start))
        flags[-1] = END_OF_MESSAGE_FLAG

    def _references(self, rows: list[Row], flags: list[int], ts: int) -> None:
        p = self.params
        mark = self.mid_ticks * p.tick_size
        index = (self.mid_ticks - p.index_basis_ticks) * p.tick_size
        rows.append((MARK_EVENT, 0, ts, 0, 0, mark))
        rows.append((INDEX_EVENT, 0, ts, 0, 0, index))
        rows.append((FUNDING_RATE_EVENT, 0, ts, 0, 0, p.funding_rate))
        flags.extend([0, 0, END_OF_MESSAGE_FLAG])

    # -- the option chain --------------------------------------------------------------------

    def option_tickers(self) -> list[tuple[Instrument, Ticker]]:
        """Instruments and Black-76 tickers of the chain at the current time, on the forward
        (the synthetic mark), for the configured first expiries."""
        chain = self.params.options
        if chain is None:
            return []
        p = self.params
        forward = self.mid_ticks * p.tick_size
        index = (self.mid_ticks - p.index_basis_ticks) * p.tick_size
        out: list[tuple[Instrument, Ticker]] = []
        for expiry_s in listed_expiries_s(chain.expiry_days, self.time_ns):
            years = (expiry_s * _NS_PER_S - self.time_ns) / _NS_PER_S / _YEAR_S
            for inst in expiry_options(chain, p.underlying, expiry_s, forward):
                # Set by `expiry_options`; repeated for the type checker.
                assert inst.strike_price is not None
                assert inst.option_type is not None
                strike, kind = inst.strike_price, inst.option_type
                iv = chain.iv * (1.0 + chain.smile * math.log(strike / forward) ** 2)
                ticker = Ticker(
                    inst.name,
                    mark_price=black76.price(forward, strike, years, iv, kind),
                    index_price=index,
                    time_ns=self.time_ns,
                    iv=iv,
                    delta=black76.delta(forward, strike, years, iv, kind),
                    forward=forward,
                )
                out.append((inst, ticker))
        return out


def _to_events(rows: list[Row], flags: list[int]) -> Events:
    # Synthetic events are observed when they happen: local time equals exchange time.
    return events_from_rows([(k, s, ts, ts, p, n, v) for k, s, ts, p, n, v in rows], flags)
