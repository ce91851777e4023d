"""The soak's continuous checks on synthetic observations of the simulator."""

from __future__ import annotations

from thalex_trio.soak.invariants import (
    CancelOnDisconnectCheck,
    ExposureCheck,
    InjectedFault,
    Observation,
    ReconnectCheck,
    RecoveryTracker,
    SimOrder,
    SimRequest,
    SimSession,
    is_quoting,
    worst_case_lots,
)
from thalex_trio.soak.schedule import FaultKind

COD_S = 6.0


def order(
    cid: int,
    side: int,
    lots: int = 1,
    *,
    session: int = 1,
    filled: int = 0,
    placed_s: float = 0.0,
) -> SimOrder:
    return SimOrder(session, cid, side, lots, lots + filled, filled, 1000 * cid, placed_s)


def session(sid: int = 1, *, silent_s: float = 0.1, partitioned: bool = False) -> SimSession:
    return SimSession(sid, silent_s, COD_S, partitioned)


def obs(
    t_s: float,
    orders: tuple[SimOrder, ...] = (),
    sessions: tuple[SimSession, ...] = (),
    *,
    position: int = 0,
    in_flight: tuple[SimRequest, ...] = (),
) -> Observation:
    return Observation(t_s, int(t_s * 1e9), position, orders, in_flight, sessions)


# -- cancel-on-disconnect ----------------------------------------------------------------------


def test_orders_on_a_live_or_briefly_silent_connection_pass() -> None:
    check = CancelOnDisconnectCheck(COD_S, tolerance_s=1.0)
    check.observe(obs(1.0, (order(1, 1),), (session(silent_s=0.2),)))
    check.observe(obs(2.0, (order(1, 1),), (session(silent_s=COD_S + 0.5),)))
    assert check.result().passed


def test_an_order_resting_past_the_window_of_a_silent_connection_fails() -> None:
    check = CancelOnDisconnectCheck(COD_S, tolerance_s=1.0)
    check.observe(obs(9.0, (order(4, -1),), (session(silent_s=COD_S + 2.0),)))
    result = check.result()
    assert not result.passed
    assert "order 4 of session 1" in result.detail


def test_an_order_outliving_its_connection_fails_once_past_the_tolerance() -> None:
    check = CancelOnDisconnectCheck(COD_S, tolerance_s=1.0)
    check.observe(obs(1.0, (order(2, 1),), ()))
    check.observe(obs(1.5, (order(2, 1),), ()))
    assert check.result().passed
    check.observe(obs(2.2, (order(2, 1),), ()))
    assert not check.result().passed


def test_an_order_of_a_session_without_cancel_on_disconnect_fails_at_once() -> None:
    check = CancelOnDisconnectCheck(COD_S, tolerance_s=1.0)
    check.observe(obs(1.0, (order(3, 1),), (SimSession(1, 0.0, None, False),)))
    assert "no cancel-on-disconnect" in check.result().detail


# -- exposure ----------------------------------------------------------------------------------


def test_worst_case_counts_position_resting_inserts_and_amend_growth() -> None:
    observation = obs(
        1.0,
        (order(1, 1, lots=3, filled=1), order(2, -1, lots=2)),
        (session(),),
        position=5,
        in_flight=(
            SimRequest(1, "insert", 3, 1, 4),
            SimRequest(1, "amend", 1, 0, 10),  # 1 filled + 3 resting -> 10: grows by 6
            SimRequest(1, "amend", 2, 0, 1),  # shrinks: no growth
            SimRequest(1, "cancel", 2, 0, 0),
        ),
    )
    assert worst_case_lots(observation) == (5 + 3 + 4 + 6, -5 + 2)


def test_exposure_over_the_limit_fails() -> None:
    check = ExposureCheck(limit_lots=10)
    check.observe(obs(1.0, (order(1, 1, lots=4),), position=6))
    assert check.result().passed
    check.observe(obs(2.0, (order(1, -1, lots=3),), position=-8))
    result = check.result()
    assert not result.passed
    assert check.worst_lots == 11
    assert check.max_abs_position_lots == 8


# -- quoting and recovery ----------------------------------------------------------------------


def test_quoting_needs_both_sides_on_a_live_newer_connection() -> None:
    both = (order(1, 1), order(2, -1))
    assert is_quoting(obs(1.0, both, (session(),)))
    assert not is_quoting(obs(1.0, both[:1], (session(),)))
    assert not is_quoting(obs(1.0, both, (session(partitioned=True),)))
    assert not is_quoting(obs(1.0, both, (session(silent_s=COD_S + 1),)))
    assert not is_quoting(obs(1.0, both, (session(),)), newer_than_session=1)
    newer = (order(3, 1, session=2), order(4, -1, session=2, placed_s=0.8))
    assert is_quoting(obs(1.0, newer, (session(2),)), newer_than_session=1)
    assert not is_quoting(obs(1.0, newer, (session(2),)), placed_since_s=0.5)


def test_recovery_counts_from_the_fault_end_to_two_sided_quoting() -> None:
    tracker = RecoveryTracker(bound_s=5.0)
    tracker.fault(InjectedFault(FaultKind.DELAY, 10.0, 13.0, "delay"))
    both = (order(1, 1, placed_s=12.0), order(2, -1, placed_s=12.0))
    tracker.observe(obs(12.0, both, (session(),)))  # quoting, but the fault is still on
    assert tracker.pending
    tracker.observe(obs(13.2, both, (session(),)))  # orders from before the fault ended
    assert tracker.pending
    amended = (order(1, 1, placed_s=13.5), order(2, -1, placed_s=13.2))
    tracker.observe(obs(13.5, amended, (session(),)))
    assert tracker.pending == ()
    tracker.close()
    assert [r.recovery_s for r in tracker.recoveries] == [0.5]
    assert tracker.result().passed


def test_a_session_ending_fault_recovers_only_on_a_new_session() -> None:
    tracker = RecoveryTracker(bound_s=5.0)
    tracker.fault(InjectedFault(FaultKind.PARTITION, 10.0, 10.0, "partition", ended_session=1))
    stale = (order(1, 1), order(2, -1))
    tracker.observe(obs(11.0, stale, (session(1),)))
    assert tracker.pending
    fresh = (order(3, 1, session=2, placed_s=16.0), order(4, -1, session=2, placed_s=17.0))
    tracker.observe(obs(17.0, fresh, (session(2),)))
    tracker.close()
    result = tracker.result()
    assert not result.passed
    assert "partition at t=10.0s: 7.0 s" in result.detail


def test_a_fault_never_recovered_from_fails() -> None:
    tracker = RecoveryTracker(bound_s=5.0)
    tracker.fault(InjectedFault(FaultKind.THROTTLE_BURST, 3.0, 3.0, "burst"))
    tracker.observe(obs(4.0, (order(1, 1),), (session(),)))
    tracker.close()
    assert [r.recovery_s for r in tracker.recoveries] == [None]
    assert "never" in tracker.result().detail


# -- after a reconnection ----------------------------------------------------------------------


def test_ready_with_orders_of_an_older_session_fails() -> None:
    check = ReconnectCheck()
    check.on_ready(obs(1.0, (order(5, 1, session=2),), (session(2),)))
    assert check.result().passed
    check.on_ready(obs(9.0, (order(5, 1, session=2),), (session(2), session(3))))
    result = check.result()
    assert not result.passed
    assert "ready on session 3 with older orders 5 (session 2)" in result.detail


def test_no_readiness_at_all_is_not_a_pass() -> None:
    assert not ReconnectCheck().result().passed
