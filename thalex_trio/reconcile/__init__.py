"""Desired ladder and live orders to an ordered plan of venue actions (pure).

`reconcile(...) -> Plan` is the entry point; `ReconcileParams` and `ReconcileLimits` configure it.
"""

from thalex_trio.reconcile.exposure import Exposure, exposure, worst_case_lots
from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams, ReconcileStyle
from thalex_trio.reconcile.reconciler import Plan, reconcile

__all__ = [
    "Exposure",
    "Plan",
    "ReconcileLimits",
    "ReconcileParams",
    "ReconcileStyle",
    "exposure",
    "reconcile",
    "worst_case_lots",
]
