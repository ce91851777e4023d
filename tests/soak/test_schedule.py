"""The soak's fault schedule: deterministic from the seed, every kind covered, and each
episode's simulator plan speaks the simulator's fault grammar."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thalex_trio.sim.server.faults import FaultPlan
from thalex_trio.soak.schedule import (
    ARMED_KINDS,
    COMPRESSED_WARM_UP_S,
    FULL_TAIL_S,
    FULL_WARM_UP_S,
    FaultKind,
    build_schedule,
    parse_kinds,
)

ALL = tuple(FaultKind)


@given(seed=st.integers(0, 2**31), minutes=st.sampled_from([1.0, 10.0, 30.0]))
def test_the_same_seed_gives_the_same_schedule(seed: int, minutes: float) -> None:
    assert build_schedule(seed, minutes * 60, ALL) == build_schedule(seed, minutes * 60, ALL)


def test_different_seeds_give_different_schedules() -> None:
    schedules = {build_schedule(seed, 600, ALL) for seed in range(5)}
    assert len(schedules) == 5


@given(seed=st.integers(0, 2**31), duration_s=st.floats(30, 3600))
def test_every_kind_is_scheduled_in_order_after_the_warm_up(seed: int, duration_s: float) -> None:
    schedule = build_schedule(seed, duration_s, ALL)
    assert schedule.kinds == frozenset(ALL)
    starts = [e.not_before_s for e in schedule.episodes]
    assert starts == sorted(starts)
    assert starts[0] >= schedule.warm_up_s
    for episode in schedule.episodes:
        assert episode.window_s >= 0
        if episode.kind in ARMED_KINDS:
            assert 0 < episode.probability <= 1


def test_a_minute_is_compressed_and_ten_minutes_is_not() -> None:
    short = build_schedule(1, 60, ALL)
    assert short.compressed
    assert short.warm_up_s == COMPRESSED_WARM_UP_S
    assert len(short.episodes) == len(ALL)
    full = build_schedule(1, 600, ALL)
    assert not full.compressed
    assert full.warm_up_s == FULL_WARM_UP_S
    assert len(full.episodes) > len(ALL)
    last = full.episodes[-1]
    assert last.not_before_s + last.window_s + FULL_TAIL_S <= 600


def test_only_the_kinds_asked_for_are_scheduled() -> None:
    kinds = (FaultKind.DELAY, FaultKind.PARTITION)
    schedule = build_schedule(3, 600, kinds)
    assert schedule.kinds == frozenset(kinds)


@pytest.mark.parametrize("kind", ALL)
def test_each_episode_plan_speaks_the_simulator_grammar(kind: FaultKind) -> None:
    episode = next(e for e in build_schedule(7, 60, ALL).episodes if e.kind is kind)
    plan = episode.sim_plan()
    assert FaultPlan.parse(str(plan)) == plan
    assert episode.describe()
    harness_fired = {
        FaultKind.DROP_CONNECTION,
        FaultKind.PARTITION,
        FaultKind.RECONNECT_NOTICE,
        FaultKind.RESTART,
        FaultKind.THROTTLE_BURST,
        FaultKind.DB_OUTAGE,
    }
    assert plan.empty is (kind in harness_fired)


def test_kind_lists_parse_with_exclusions_and_refuse_unknown_names() -> None:
    assert parse_kinds("all") == ALL
    assert parse_kinds("delay, partition") == (FaultKind.DELAY, FaultKind.PARTITION)
    left = parse_kinds("all,-db_outage")
    assert FaultKind.DB_OUTAGE not in left
    assert len(left) == len(ALL) - 1
    with pytest.raises(ValueError, match="unknown fault kind 'gremlins'"):
        parse_kinds("delay,gremlins")
    with pytest.raises(ValueError, match="names no fault kind"):
        parse_kinds("delay,-delay")
