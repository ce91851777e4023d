"""Which options the synthetic market lists: expiries on the daily 08:00 UTC grid, strikes
around the forward.

Expiry `d` of `OptionChainParams.expiry_days` is the (d-1)th 08:00 UTC after the next one, so
it is between d-1 and d days out. The rule depends on the time only through the next 08:00
UTC: the listing changes at that moment, which is also when the nearest listed expiry expires.
Both the generator (the chain at the start) and the simulator's rolling chain list through it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from thalex_trio.domain.enums import InstrumentKind, OptionType
from thalex_trio.domain.instrument import Instrument

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thalex_trio.sim.market.params import OptionChainParams

EXPIRY_HOUR_UTC = 8
"""Options expire at 08:00 UTC."""

OPTION_TICK_SIZE = 0.1
OPTION_VOLUME_TICK_SIZE = 0.01
OPTION_MIN_ORDER_AMOUNT = 0.01
"""The listed options' grids, as `public/instruments` shows them. Options are market data only
in the simulator and marks are not on a grid, so nothing here is ever checked against them."""

_NS_PER_S = 10**9


def next_expiry_time_s(now_ns: int) -> int:
    """The first 08:00 UTC strictly after `now_ns`, in epoch seconds."""
    now = dt.datetime.fromtimestamp(now_ns / _NS_PER_S, tz=dt.UTC)
    first = now.replace(hour=EXPIRY_HOUR_UTC, minute=0, second=0, microsecond=0)
    if first <= now:
        first += dt.timedelta(days=1)
    return int(first.timestamp())


def listed_expiries_s(expiry_days: Iterable[int], now_ns: int) -> list[int]:
    """The expiries (epoch seconds) the rule lists at `now_ns`, in `expiry_days` order."""
    first_s = next_expiry_time_s(now_ns)
    return [first_s + (days - 1) * 86_400 for days in expiry_days]


def option_name(underlying: str, expiry_s: int, strike: float, kind: OptionType) -> str:
    """The exchange's name, e.g. BTC-10SEP21-70000-C."""
    code = dt.datetime.fromtimestamp(expiry_s, tz=dt.UTC).strftime("%d%b%y").upper()
    return f"{underlying[:3]}-{code}-{strike:.0f}-{kind.value[0].upper()}"


def expiry_options(
    params: OptionChainParams, underlying: str, expiry_s: int, forward: float
) -> list[Instrument]:
    """Calls and puts of one expiry at `strikes_each_side` strikes either side of the one
    nearest `forward` (positive strikes only), call before put at each strike."""
    atm = round(forward / params.strike_step) * params.strike_step
    out: list[Instrument] = []
    for j in range(-params.strikes_each_side, params.strikes_each_side + 1):
        strike = atm + j * params.strike_step
        if strike <= 0:
            continue
        for kind in (OptionType.CALL, OptionType.PUT):
            out.append(
                Instrument(
                    option_name(underlying, expiry_s, strike, kind),
                    InstrumentKind.OPTION,
                    underlying,
                    OPTION_TICK_SIZE,
                    OPTION_VOLUME_TICK_SIZE,
                    OPTION_MIN_ORDER_AMOUNT,
                    expiration_timestamp_s=expiry_s,
                    strike_price=strike,
                    option_type=kind,
                )
            )
    return out
