"""Exposure, limits and health to a verdict and a trading state (pure).

`evaluate(snapshot, limits, state) -> Verdict` is the entry point; `gate_ladder` applies a
verdict to the strategy's ladder before it is reconciled.
"""

from thalex_trio.risk.evaluator import (
    Breach,
    BreachKind,
    RiskSnapshot,
    RiskState,
    TradingState,
    Verdict,
    evaluate,
)
from thalex_trio.risk.gate import gate_ladder
from thalex_trio.risk.limits import RiskLimits

__all__ = [
    "Breach",
    "BreachKind",
    "RiskLimits",
    "RiskSnapshot",
    "RiskState",
    "TradingState",
    "Verdict",
    "evaluate",
    "gate_ladder",
]
