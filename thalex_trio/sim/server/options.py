"""The listed option chain: fixed at start, marked by Black-76 on the perpetual's mark.

Options are served for market data only (`public/instruments`, `public/instrument`, the
`instruments` channel, `public/ticker` and `ticker.<option>.<delay>`). The matching engine
trades the perpetual alone, so the gateway refuses an insert on an option with code 5
(UnknownInstrument, "not traded by the simulator"), and a mass quote leg on one gets the
engine's per-leg code 5.

The names, strikes and expiries are what the synthetic generator lists when the market starts
(`SyntheticMarket.option_tickers`). A listed option then keeps its strike while the forward
moves, as listed instruments do. The chain rolls as the exchange's does (API.md §9.3): at
08:00 UTC the expiry due then is delisted (`roll`), and each expiry the listing rule
(`option_listing`) now names that is not listed yet is listed, at strikes around the forward
of that moment, so a long run always has the configured expiries ahead of it.

Every option is marked at the time of the perpetual's latest mark, with that mark as the
forward, so a ticker changes only when the forward does and the channel throttle and change
detection treat it as they treat the perpetual's ticker.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from attrs import evolve, frozen

from thalex_trio.domain.enums import InstrumentKind
from thalex_trio.domain.instrument import Instrument
from thalex_trio.sim.engine.exchange import product_of
from thalex_trio.sim.market import black76
from thalex_trio.sim.market.option_listing import (
    expiry_options,
    listed_expiries_s,
    next_expiry_time_s,
)
from thalex_trio.sim.server.clock import NS_PER_S, wire_time_s
from thalex_trio.thalex.wire_market import ThalexTicker

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.sim.market.params import OptionChainParams
    from thalex_trio.sim.market.synthetic import SyntheticMarket

YEAR_S = 365.0 * 86_400.0
"""The year of time to expiry, as in the synthetic generator (ACT/365)."""


@frozen
class ChainChange:
    """What a roll delisted and listed (each in listing order)."""

    removed: tuple[Instrument, ...]
    added: tuple[Instrument, ...]

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)


class OptionChain:
    """Listed options on one perpetual's forward, with the chain's vol smile."""

    def __init__(
        self,
        instruments: Iterable[Instrument],
        params: OptionChainParams,
        forward_of: str,
        underlying: str,
        listed_at_ns: int,
    ) -> None:
        self.params = params
        self.forward_of = forward_of
        """The perpetual whose mark is the forward (and whose index is the options' index)."""
        self.underlying = underlying
        self._next_roll_s = next_expiry_time_s(listed_at_ns)
        self.instruments: dict[str, Instrument] = {}
        for instrument in instruments:
            if (
                instrument.kind is not InstrumentKind.OPTION
                or instrument.expiration_timestamp_s is None
                or instrument.strike_price is None
                or instrument.option_type is None
            ):
                raise ValueError(f"{instrument.name}: not a listed option with expiry and strike")
            self.instruments[instrument.name] = instrument

    def __contains__(self, name: object) -> bool:
        return name in self.instruments

    def roll(self, now_ns: int, forward: float) -> ChainChange:
        """At or after the next 08:00 UTC: delist what expired by `now_ns` and list the
        expiries the rule names now that are missing, at strikes around `forward`. Before
        it, nothing changes (the rule's answer only moves at 08:00 UTC)."""
        if now_ns < self._next_roll_s * NS_PER_S:
            return ChainChange((), ())
        self._next_roll_s = next_expiry_time_s(now_ns)
        removed = tuple(
            i
            for i in self.instruments.values()
            if i.expiration_timestamp_s is not None
            and i.expiration_timestamp_s * NS_PER_S <= now_ns
        )
        for instrument in removed:
            del self.instruments[instrument.name]
        listed = {i.expiration_timestamp_s for i in self.instruments.values()}
        added = tuple(
            evolve(option, product=product_of(option))
            for expiry_s in listed_expiries_s(self.params.expiry_days, now_ns)
            if expiry_s not in listed
            for option in expiry_options(self.params, self.underlying, expiry_s, forward)
        )
        for instrument in added:
            self.instruments[instrument.name] = instrument
        return ChainChange(removed, added)

    def iv(self, strike: float, forward: float) -> float:
        """The smile of `OptionChainParams`: iv * (1 + smile * ln(K/F)^2)."""
        p = self.params
        return p.iv * (1.0 + p.smile * math.log(strike / forward) ** 2)

    def ticker(self, name: str, forward: float, index: float, mark_time_ns: int) -> ThalexTicker:
        """Black-76 mark, iv and delta of option `name` at `mark_time_ns` on `forward`."""
        instrument = self.instruments[name]
        # Checked in __init__; repeated for the type checker.
        assert instrument.expiration_timestamp_s is not None
        assert instrument.strike_price is not None
        assert instrument.option_type is not None
        strike, kind = instrument.strike_price, instrument.option_type
        to_expiry_ns = instrument.expiration_timestamp_s * NS_PER_S - mark_time_ns
        years = to_expiry_ns / NS_PER_S / YEAR_S
        iv = self.iv(strike, forward)
        return ThalexTicker(
            mark_price=black76.price(forward, strike, years, iv, kind),
            mark_timestamp=wire_time_s(mark_time_ns),
            delta=black76.delta(forward, strike, years, iv, kind),
            index=index,
            iv=iv,
            forward=forward,
        )


def listed_chain(source: SyntheticMarket, forward_of: str) -> OptionChain | None:
    """The chain `source` lists now (call before its stream starts), None without options.

    The generator leaves `product` unset; it is filled in as the exchange names it (OBTCUSD).
    """
    params = source.params.options
    if params is None:
        return None
    listed = [evolve(i, product=product_of(i)) for i, _ in source.option_tickers()]
    return OptionChain(listed, params, forward_of, source.params.underlying, source.time_ns)
