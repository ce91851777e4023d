"""Reservation price and half-spread to a ladder of quotes (MODELS.md §3).

Floors and clamps, in the order applied: the half-spread is at least `min_half_spread_ticks` and
at least the maker fee on the fair price (a round trip must earn its two fees); bids round down
and asks up (away from the reservation price); with post-only a bid is at most one tick below
the best ask and an ask at least one tick above the best bid; each deeper level is at least one
tick beyond the previous one. Sizes shrink by exp(-eta |q|) on the side that would grow |q|,
and each side's total stays within its room under the position limit.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from attrs import frozen

from thalex_trio.domain.enums import Side
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.kernels.dispatch import compiled_entry_point
from thalex_trio.kernels.ladder import ladder_side_levels

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from thalex_trio.strategy.market_state import Exposure
    from thalex_trio.strategy.params import StrategyParams

_QUOTE_CACHE_LIMIT = 4096
_SIDE_CACHE_LIMIT = 4096


@frozen
class LadderSpec:
    """The ladder's shape, from `StrategyParams` and the instrument's minimum order size."""

    levels_per_side: int
    level_spacing_ticks: float
    level_spacing_half_spread_fraction: float
    size_lots: int
    size_growth_per_level: float
    size_eta_per_unit: float
    min_half_spread_ticks: float
    maker_fee_rate: float
    post_only: bool
    min_order_lots: int

    @classmethod
    def from_params(cls, params: StrategyParams, min_order_lots: int) -> LadderSpec:
        """The spec for `params` on an instrument whose minimum order is `min_order_lots`."""
        return cls(
            levels_per_side=params.levels_per_side,
            level_spacing_ticks=params.level_spacing_ticks,
            level_spacing_half_spread_fraction=params.level_spacing_half_spread_fraction,
            size_lots=params.size_lots,
            size_growth_per_level=params.size_growth_per_level,
            size_eta_per_unit=params.size_eta_per_unit,
            min_half_spread_ticks=params.min_half_spread_ticks,
            maker_fee_rate=params.maker_fee_rate,
            post_only=params.post_only,
            min_order_lots=max(1, min_order_lots),
        )


def side_room_lots(limit_lots: int, exposure: Exposure) -> tuple[int, int]:
    """(buy room, sell room): total lots each side of the ladder may quote.

    The ladder replaces our resting orders, so a side's room is the distance from the position
    to the limit. A side whose current worst case (position + resting + in-flight on that side)
    is already beyond the limit is withdrawn outright (room 0), so its orders are cancelled
    before anything is placed again on it.
    """
    position = exposure.position_lots
    buy_worst = position + exposure.resting_buy_lots + exposure.in_flight_buy_lots
    sell_worst = position - exposure.resting_sell_lots - exposure.in_flight_sell_lots
    buy_room = 0 if buy_worst > limit_lots else max(0, limit_lots - position)
    sell_room = 0 if sell_worst < -limit_lots else max(0, limit_lots + position)
    return buy_room, sell_room


class LadderBuilder:
    """Builds `QuoteLadder`s for one instrument, interning `Quote` values for a lean hot path."""

    def __init__(self, spec: LadderSpec, instrument_name: str) -> None:
        self.spec = spec
        self.instrument_name = instrument_name
        self._quotes: dict[tuple[bool, int, int], Quote] = {}
        self._sides: dict[tuple[bool, int, bytes, bytes], tuple[Quote, ...]] = {}
        # Keyed by the identities of interned sides: hashing Quotes would cost more than the
        # ladder. A cached ladder holds its two sides, so their ids cannot be reused meanwhile.
        self._ladders: dict[tuple[int, int], QuoteLadder] = {}
        self._last: QuoteLadder = QuoteLadder(instrument_name)
        # Preallocated outputs of the level kernel, reused by both sides on every call.
        self._prices: NDArray[np.int64] = np.zeros(spec.levels_per_side, dtype=np.int64)
        self._amounts: NDArray[np.int64] = np.zeros(spec.levels_per_side, dtype=np.int64)
        # `_side` passes exactly the kernel's signature types, so it may skip the dispatcher.
        self._levels = compiled_entry_point(ladder_side_levels)

    def empty(self) -> QuoteLadder:
        """A ladder with both sides withdrawn."""
        return QuoteLadder(self.instrument_name)

    def _quote(self, is_bid: bool, price_ticks: int, amount_lots: int) -> Quote:
        key = (is_bid, price_ticks, amount_lots)
        quote = self._quotes.get(key)
        if quote is None:
            if len(self._quotes) >= _QUOTE_CACHE_LIMIT:
                self._quotes.clear()
            quote = Quote(Side.BUY if is_bid else Side.SELL, price_ticks, amount_lots)
            self._quotes[key] = quote
        return quote

    def build(
        self,
        *,
        fair_ticks: float,
        reservation_ticks: float,
        half_spread_ticks: float,
        best_bid_ticks: int | None,
        best_ask_ticks: int | None,
        inventory_units: float,
        size_multiplier: float,
        bid_room_lots: int,
        ask_room_lots: int,
    ) -> QuoteLadder:
        """The ladder around `reservation_ticks`; an unchanged result is the previous object."""
        spec = self.spec
        if (
            spec.post_only
            and best_bid_ticks is not None
            and best_ask_ticks is not None
            and best_bid_ticks >= best_ask_ticks
        ):
            return self.empty()  # a locked or crossed book has no post-only price to join
        fee_floor_ticks = spec.maker_fee_rate * abs(fair_ticks)
        half = max(half_spread_ticks, spec.min_half_spread_ticks, fee_floor_ticks)
        spacing = spec.level_spacing_ticks + spec.level_spacing_half_spread_fraction * half
        eta_q = spec.size_eta_per_unit * inventory_units
        bid_shape = math.exp(-eta_q) if eta_q > 0.0 else 1.0
        ask_shape = math.exp(eta_q) if eta_q < 0.0 else 1.0
        bid_cap = best_ask_ticks - 1 if spec.post_only and best_ask_ticks is not None else None
        ask_cap = best_bid_ticks + 1 if spec.post_only and best_bid_ticks is not None else None
        bid_scale = size_multiplier * bid_shape
        ask_scale = size_multiplier * ask_shape
        bids = self._side(
            True, reservation_ticks - half, -spacing, bid_cap, bid_scale, bid_room_lots
        )
        asks = self._side(
            False, reservation_ticks + half, spacing, ask_cap, ask_scale, ask_room_lots
        )
        last = self._last
        if bids == last.bids and asks == last.asks:
            return last
        key = (id(bids), id(asks))
        ladder = self._ladders.get(key)
        if ladder is None:
            if len(self._ladders) >= _SIDE_CACHE_LIMIT:
                self._ladders.clear()
            ladder = self._ladders[key] = QuoteLadder(self.instrument_name, bids, asks)
        self._last = ladder
        return ladder

    def _side(
        self,
        is_bid: bool,
        first_ticks: float,
        step_ticks: float,
        cap_ticks: int | None,
        size_scale: float,
        room_lots: int,
    ) -> tuple[Quote, ...]:
        spec = self.spec
        prices = self._prices
        amounts = self._amounts
        count = self._levels(
            is_bid,
            first_ticks,
            step_ticks,
            cap_ticks is not None,
            0 if cap_ticks is None else cap_ticks,
            spec.size_lots * size_scale,
            spec.size_growth_per_level,
            spec.min_order_lots,
            room_lots,
            prices,
            amounts,
        )
        if count == 0:
            return ()
        # The book moves among a few nearby prices, so the same kernel output comes back often:
        # look the whole side up by its raw bytes before building it level by level. Slots past
        # `count` are part of the key; stale values there only cost a miss, never a wrong side.
        key = (is_bid, count, prices.tobytes(), amounts.tobytes())
        side = self._sides.get(key)
        if side is None:
            if len(self._sides) >= _SIDE_CACHE_LIMIT:
                self._sides.clear()
            side = self._sides[key] = self._new_side(is_bid, count)
        return side

    def _new_side(self, is_bid: bool, count: int) -> tuple[Quote, ...]:
        # Whole-array tolist() then list indexing: slicing an ndarray costs more than the rest.
        price_list = self._prices.tolist()
        lots_list = self._amounts.tolist()
        cache = self._quotes
        quotes: list[Quote] = []
        for i in range(count):
            price = price_list[i]
            lots = lots_list[i]
            quote = cache.get((is_bid, price, lots))
            quotes.append(quote if quote is not None else self._quote(is_bid, price, lots))
        return tuple(quotes)
