"""The reference price the quotes centre on, chosen by config (MODELS.md notation: s)."""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from thalex_trio.strategy.params import FairValueSource

if TYPE_CHECKING:
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
