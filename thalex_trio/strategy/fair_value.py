"""The reference price the quotes centre on, chosen by config (MODELS.md notation: s)."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, assert_never, cast

from thalex_trio.strategy.params import FairValueSource

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.strategy.market_state import MarketState


def fair_value_ticks(source: FairValueSource, state: MarketState) -> float | None:
    """The fair price in fractional ticks, or None when that source has no value yet.

    No silent fallback to another source: quoting around a price other than the configured one
    is a different strategy, so the quoter withdraws instead.
    """
    match source:
        case FairValueSource.MID:
            return state.mid_ticks
        case FairValueSource.MICROPRICE:
            return state.microprice_ticks
        case FairValueSource.MARK:
            return state.mark_ticks
        case FairValueSource.INDEX:
            return state.index_ticks
        case FairValueSource.EXTERNAL:
            return state.external_ticks
        case _:
            assert_never(source)


_ATTRIBUTE = {
    FairValueSource.MID: "mid_ticks",
    FairValueSource.MICROPRICE: "microprice_ticks",
    FairValueSource.MARK: "mark_ticks",
    FairValueSource.INDEX: "index_ticks",
    FairValueSource.EXTERNAL: "external_ticks",
}


def fair_value_getter(source: FairValueSource) -> Callable[[MarketState], float | None]:
    """`fair_value_ticks(source, ...)` resolved once: the quoter reads the fair value on every
    decision, and matching the source there costs more than reading the price."""
    return cast("Callable[[MarketState], float | None]", attrgetter(_ATTRIBUTE[source]))
