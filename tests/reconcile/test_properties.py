"""The reconciler's invariants as Hypothesis properties (DESIGN.md §4)."""

from __future__ import annotations

from hypothesis import given

from tests.reconcile.properties import (
    check_convergence,
    check_exposure,
    check_mass_quote,
    check_plan_shape,
    check_prices_and_sizes,
)
from tests.reconcile.strategies import Case, cases
from thalex_trio.reconcile.params import ReconcileStyle


@given(cases())
def test_cancels_first_and_nothing_in_flight_is_touched(case: Case) -> None:
    check_plan_shape(case)


@given(cases())
def test_prices_sizes_post_only_and_no_self_cross(case: Case) -> None:
    check_prices_and_sizes(case)


@given(cases())
def test_exposure_along_the_plan_stays_within_before_after_and_the_limit(case: Case) -> None:
    check_exposure(case)


@given(cases())
def test_applying_the_plan_converges_and_then_the_plan_is_empty(case: Case) -> None:
    check_convergence(case)


@given(cases(in_flight=False, limited=False))
def test_one_round_from_a_clean_start_without_a_limit(case: Case) -> None:
    check_convergence(case)


@given(cases(style=ReconcileStyle.MASS_QUOTE))
def test_mass_quote_sends_only_changed_sides_and_converges(case: Case) -> None:
    check_mass_quote(case)
