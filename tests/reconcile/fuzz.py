"""Long fuzz run of the reconciler's invariants: `scripts/fuzz-reconciler --minutes N`.

Keeps drawing fresh random cases (both styles, with and without requests in flight and limits)
in batches until the time is up. On the first failure Hypothesis shrinks it and prints the
minimal example, and the run exits 1. The last line always states examples tried and failures.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, Phase, given, settings

from tests.reconcile.properties import all_cases, check_all

if TYPE_CHECKING:
    from tests.reconcile.strategies import Case


def main(argv: list[str]) -> int:
    """Fuzz for the requested minutes; 0 when nothing failed, 1 on the first failure."""
    parser = argparse.ArgumentParser(prog="scripts/fuzz-reconciler", description=__doc__)
    parser.add_argument("--minutes", type=float, required=True, help="how long to fuzz")
    parser.add_argument("--batch", type=int, default=500, help="examples per Hypothesis run")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.minutes * 60
    tried = 0

    @settings(
        max_examples=args.batch,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink, Phase.explain),
    )
    @given(all_cases())
    def batch(case: Case) -> None:
        nonlocal tried
        tried += 1
        check_all(case)

    failures = 0
    while time.monotonic() < deadline:
        try:
            batch()
        except Exception:  # Hypothesis re-raises the shrunk example's error after printing it
            traceback.print_exc()
            failures = 1
            break
    print(f"examples tried: {tried}, failures found: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
