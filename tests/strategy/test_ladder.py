"""Ladder invariants (Hypothesis) and each floor, clamp and limit rule on a worked case."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.domain.enums import Side
from thalex_trio.strategy.ladder import LadderBuilder, LadderSpec, side_room_lots
from thalex_trio.strategy.market_state import Exposure

if TYPE_CHECKING:
    from thalex_trio.domain.quote import QuoteLadder


def spec(
    *,
    levels_per_side: int = 3,
    level_spacing_ticks: float = 1.0,
    level_spacing_half_spread_fraction: float = 0.0,
    size_lots: int = 10,
    size_growth_per_level: float = 1.0,
    size_eta_per_unit: float = 0.0,
    min_half_spread_ticks: float = 0.5,
    maker_fee_rate: float = 0.0,
    post_only: bool = True,
    min_order_lots: int = 1,
) -> LadderSpec:
    return LadderSpec(
        levels_per_side,
        level_spacing_ticks,
        level_spacing_half_spread_fraction,
        size_lots,
        size_growth_per_level,
        size_eta_per_unit,
        min_half_spread_ticks,
        maker_fee_rate,
        post_only,
        min_order_lots,
    )


def build(
    builder: LadderBuilder,
    *,
    fair: float = 1000.0,
    reservation: float = 1000.0,
    half: float = 2.0,
    best_bid: int | None = 990,
    best_ask: int | None = 1010,
    inventory: float = 0.0,
    size_multiplier: float = 1.0,
    bid_room: int = 1000,
    ask_room: int = 1000,
) -> QuoteLadder:
    return builder.build(
        fair_ticks=fair,
        reservation_ticks=reservation,
        half_spread_ticks=half,
        best_bid_ticks=best_bid,
        best_ask_ticks=best_ask,
        inventory_units=inventory,
        size_multiplier=size_multiplier,
        bid_room_lots=bid_room,
        ask_room_lots=ask_room,
    )


@given(
    levels=st.integers(1, 6),
    spacing=st.floats(0.0, 5.0),
    fraction=st.floats(0.0, 1.0),
    size=st.integers(1, 50),
    growth=st.floats(0.5, 2.0),
    eta=st.floats(0.0, 1.0),
    min_half=st.floats(0.01, 5.0),
    fee=st.floats(-0.001, 0.001),
    post_only=st.booleans(),
    min_lots=st.integers(1, 10),
    fair=st.floats(1.0, 1e6),
    offset=st.floats(-50.0, 50.0),
    half=st.floats(-20.0, 50.0),
    best_bid=st.one_of(st.none(), st.integers(-30, 30)),
    spread=st.integers(1, 20),
    has_ask=st.booleans(),
    inventory=st.floats(-20.0, 20.0),
    size_mult=st.floats(0.0, 2.0),
    bid_room=st.integers(0, 300),
    ask_room=st.integers(0, 300),
)
def test_ladder_invariants(
    levels: int,
    spacing: float,
    fraction: float,
    size: int,
    growth: float,
    eta: float,
    min_half: float,
    fee: float,
    post_only: bool,
    min_lots: int,
    fair: float,
    offset: float,
    half: float,
    best_bid: int | None,
    spread: int,
    has_ask: bool,
    inventory: float,
    size_mult: float,
    bid_room: int,
    ask_room: int,
) -> None:
    builder = LadderBuilder(
        spec(
            levels_per_side=levels,
            level_spacing_ticks=spacing,
            level_spacing_half_spread_fraction=fraction,
            size_lots=size,
            size_growth_per_level=growth,
            size_eta_per_unit=eta,
            min_half_spread_ticks=min_half,
            maker_fee_rate=fee,
            post_only=post_only,
            min_order_lots=min_lots,
        ),
        "X",
    )
    bid_best = None if best_bid is None else round(fair) + best_bid
    ask_best = bid_best + spread if bid_best is not None and has_ask else None
    # The QuoteLadder constructor itself checks ordering and the no-self-cross rule.
    ladder = builder.build(
        fair_ticks=fair,
        reservation_ticks=fair + offset,
        half_spread_ticks=half,
        best_bid_ticks=bid_best,
        best_ask_ticks=ask_best,
        inventory_units=inventory,
        size_multiplier=size_mult,
        bid_room_lots=bid_room,
        ask_room_lots=ask_room,
    )
    assert len(ladder.bids) <= levels
    assert len(ladder.asks) <= levels
    assert sum(q.amount_lots for q in ladder.bids) <= bid_room
    assert sum(q.amount_lots for q in ladder.asks) <= ask_room
    assert all(q.amount_lots >= min_lots for q in (*ladder.bids, *ladder.asks))
    assert all(q.price_ticks > 0 for q in ladder.bids)
    floor = max(min_half, fee * fair)
    if ladder.bids and ladder.asks:
        assert ladder.asks[0].price_ticks - ladder.bids[0].price_ticks >= 2 * floor - 1e-6
    if post_only and ask_best is not None and ladder.bids:
        assert ladder.bids[0].price_ticks <= ask_best - 1
    if post_only and bid_best is not None and ladder.asks:
        assert ladder.asks[0].price_ticks >= bid_best + 1


def prices(ladder: QuoteLadder) -> tuple[list[int], list[int]]:
    return [q.price_ticks for q in ladder.bids], [q.price_ticks for q in ladder.asks]


def test_prices_round_away_from_the_reservation_and_step_by_spacing() -> None:
    ladder = build(LadderBuilder(spec(level_spacing_ticks=2.0), "X"), reservation=1000.3)
    assert prices(ladder) == ([998, 996, 994], [1003, 1005, 1007])
    assert all(q.side is Side.BUY for q in ladder.bids)
    assert all(q.side is Side.SELL for q in ladder.asks)


def test_spacing_can_be_a_fraction_of_the_half_spread() -> None:
    builder = LadderBuilder(
        spec(level_spacing_ticks=0.0, level_spacing_half_spread_fraction=1.0), "X"
    )
    assert prices(build(builder, half=3.0)) == ([997, 994, 991], [1003, 1006, 1009])


def test_minimum_half_spread_and_fee_floor() -> None:
    builder = LadderBuilder(spec(min_half_spread_ticks=4.0, levels_per_side=1), "X")
    assert prices(build(builder, half=0.5)) == ([996], [1004])
    # A 5 bp maker fee on a fair of 100,000 ticks is 50 ticks a side.
    fee = LadderBuilder(spec(maker_fee_rate=0.0005, levels_per_side=1), "X")
    assert prices(
        build(fee, fair=100_000.0, reservation=100_000.0, best_bid=None, best_ask=None)
    ) == (
        [99_950],
        [100_050],
    )
    rebate = LadderBuilder(spec(maker_fee_rate=-0.0005, levels_per_side=1), "X")
    assert prices(build(rebate, half=1.0)) == ([999], [1001])


def test_post_only_clamps_one_tick_inside_the_opposite_best() -> None:
    builder = LadderBuilder(spec(), "X")
    ladder = build(builder, reservation=1020.0, half=1.0, best_bid=1005, best_ask=1010)
    assert prices(ladder)[0] == [1009, 1008, 1007]
    ladder = build(builder, reservation=980.0, half=1.0, best_bid=990, best_ask=995)
    assert prices(ladder)[1] == [991, 992, 993]
    loose = LadderBuilder(spec(post_only=False), "X")
    assert (
        prices(build(loose, reservation=1020.0, half=1.0, best_bid=1005, best_ask=1010))[0][0]
        == 1019
    )


def test_a_locked_book_gets_no_post_only_quotes() -> None:
    ladder = build(LadderBuilder(spec(), "X"), best_bid=1000, best_ask=1000)
    assert ladder.bids == ()
    assert ladder.asks == ()


def test_sizes_shrink_on_the_side_that_grows_inventory() -> None:
    builder = LadderBuilder(spec(size_eta_per_unit=0.5, levels_per_side=1), "X")
    long = build(builder, inventory=2.0)
    assert long.bids[0].amount_lots == math.floor(10 * math.exp(-1.0))
    assert long.asks[0].amount_lots == 10
    short = build(builder, inventory=-2.0)
    assert short.asks[0].amount_lots == math.floor(10 * math.exp(-1.0))
    assert short.bids[0].amount_lots == 10


def test_room_truncates_the_last_level_and_drops_the_rest() -> None:
    ladder = build(LadderBuilder(spec(min_order_lots=3), "X"), bid_room=25, ask_room=2)
    assert [q.amount_lots for q in ladder.bids] == [10, 10, 5]
    assert ladder.asks == ()


def test_side_room_withdraws_the_side_over_the_limit() -> None:
    assert side_room_lots(100, Exposure(position_lots=40)) == (60, 140)
    assert side_room_lots(100, Exposure(position_lots=100)) == (0, 200)
    assert side_room_lots(100, Exposure(position_lots=-100)) == (200, 0)
    # Resting and in-flight bids would take the worst case past the limit: withdraw bids first.
    assert side_room_lots(
        100, Exposure(position_lots=90, resting_buy_lots=8, in_flight_buy_lots=5)
    ) == (0, 190)
    assert side_room_lots(100, Exposure(position_lots=-90, in_flight_sell_lots=20)) == (190, 0)


def test_an_unchanged_ladder_is_the_same_object() -> None:
    builder = LadderBuilder(spec(), "X")
    first = build(builder)
    assert build(builder, half=1.9) is first
    assert build(builder, reservation=1003.0) is not first
