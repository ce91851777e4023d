"""The signs that our book lost a delta: how long they must last, what clears them, and how
often a snapshot is asked for."""

from __future__ import annotations

from thalex_trio.domain.market import BookLevel, TopOfBook
from thalex_trio.runtime.book_check import BookCheck

S = 1_000_000_000  # ns per second
TOLERANCE_NS = 2 * S
RETRY_NS = 10 * S
MAX_RETRY_NS = 40 * S


def top(bid: int | None, ask: int | None) -> TopOfBook:
    return TopOfBook(
        "BTC-PERPETUAL",
        None if bid is None else BookLevel(bid, 5),
        None if ask is None else BookLevel(ask, 5),
        0,
    )


def test_a_ticker_that_keeps_naming_another_top_makes_a_snapshot_due_once_per_retry() -> None:
    check = BookCheck(TOLERANCE_NS, RETRY_NS, MAX_RETRY_NS)
    ours = top(100, 102)  # a delta removing our 100 bid was lost: the exchange's bid is 99
    check.on_ticker(99, 102, ours, 0)
    assert not check.snapshot_due(TOLERANCE_NS - 1)
    assert check.snapshot_due(TOLERANCE_NS)
    assert not check.snapshot_due(TOLERANCE_NS + 1)  # asked: not again before the retry
    check.on_ticker(99, 102, ours, 5 * S)
    assert not check.snapshot_due(TOLERANCE_NS + RETRY_NS - 1)
    assert check.snapshot_due(TOLERANCE_NS + RETRY_NS)
    check.on_snapshot()
    assert not check.snapshot_due(100 * S)


def test_agreement_from_either_side_clears_a_disagreement() -> None:
    check = BookCheck(TOLERANCE_NS, RETRY_NS, MAX_RETRY_NS)
    # The ticker overtook the book delta of the same change; the delta then arrives.
    check.on_ticker(101, 102, top(100, 102), 0)
    check.on_book(top(101, 102), S // 10)
    assert not check.snapshot_due(10 * S)
    # The book moved first; the ticker of that move then agrees.
    check.on_ticker(100, 102, top(101, 102), 11 * S)
    check.on_ticker(101, 102, top(101, 102), 11 * S + S // 10)
    assert not check.snapshot_due(20 * S)
    # An empty side counts as a price like any other.
    check.on_ticker(None, 102, top(101, 102), 21 * S)
    assert check.snapshot_due(21 * S + TOLERANCE_NS)


def test_a_crossed_book_that_stays_crossed_makes_a_snapshot_due() -> None:
    check = BookCheck(TOLERANCE_NS, RETRY_NS, MAX_RETRY_NS)
    check.on_book(top(103, 102), 0)
    check.on_book(top(101, 102), S)  # uncrossed in between: the clock starts over
    check.on_book(top(102, 102), 2 * S)  # locked counts as crossed
    assert not check.snapshot_due(2 * S + TOLERANCE_NS - 1)
    assert check.snapshot_due(2 * S + TOLERANCE_NS)


def test_a_doubt_no_snapshot_cures_is_asked_about_less_and_less_often() -> None:
    check = BookCheck(TOLERANCE_NS, RETRY_NS, MAX_RETRY_NS)
    asked: list[int] = []
    for t in range(0, 200 * S, S // 2):  # the ticker disagrees every half second, for good
        check.on_ticker(99, 102, top(100, 102), t)
        if check.snapshot_due(t):
            asked.append(t // S)
            check.on_snapshot()
    # 2 s of doubt, then intervals of 10, 20, 40 and 40 s (the cap).
    assert asked[:6] == [2, 12, 32, 72, 112, 152]
    # A calm spell longer than twice the interval brings it back to the first one.
    calm_end = 300 * S
    check.on_ticker(99, 102, top(100, 102), calm_end)
    assert check.snapshot_due(calm_end + TOLERANCE_NS)
    check.on_snapshot()
    check.on_ticker(99, 102, top(100, 102), calm_end + TOLERANCE_NS)
    assert not check.snapshot_due(calm_end + TOLERANCE_NS + RETRY_NS - 1)
    assert check.snapshot_due(calm_end + TOLERANCE_NS + RETRY_NS)
