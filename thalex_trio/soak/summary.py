"""The soak's report: faults injected, recoveries, traffic, and every invariant's verdict.

Printed as text at the end of a run and written as `summary.json` in the artifacts folder.
"""

from __future__ import annotations

import collections
import json

from attrs import field, frozen

from thalex_trio.soak.invariants import InvariantResult, Recovery


@frozen
class SoakSummary:
    """Everything a soak run reports."""

    seed: int
    duration_s: float
    """Quoting time asked for; `elapsed_s` is what the run took (recoveries may extend it)."""
    elapsed_s: float
    compressed: bool
    kinds: tuple[str, ...]
    recovery_bound_s: float
    rss_factor: float
    bot_overrides: dict[str, str]
    recoveries: tuple[Recovery, ...]
    invariants: tuple[InvariantResult, ...]
    sim_fault_hits: dict[str, int] = field(factory=dict)
    """The simulator's own count per fault kind (per-message faults count each message)."""
    traffic: dict[str, str] = field(factory=dict)
    """Orders sent, fills, reconnects and the like, from the bot, the simulator and the store."""
    bot_exit_code: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every invariant passed."""
        return all(r.passed for r in self.invariants)

    def faults_by_kind(self) -> dict[str, int]:
        """How many faults of each kind the schedule injected."""
        return dict(collections.Counter(r.fault.kind.value for r in self.recoveries))

    def to_json(self) -> str:
        """The summary as a JSON document."""
        document = {
            "passed": self.passed,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "elapsed_s": round(self.elapsed_s, 1),
            "compressed": self.compressed,
            "kinds": list(self.kinds),
            "recovery_bound_s": self.recovery_bound_s,
            "rss_factor": self.rss_factor,
            "bot_overrides": self.bot_overrides,
            "bot_exit_code": self.bot_exit_code,
            "faults_by_kind": self.faults_by_kind(),
            "sim_fault_hits": self.sim_fault_hits,
            "recoveries": [
                {
                    "kind": r.fault.kind.value,
                    "start_s": round(r.fault.start_s, 3),
                    "end_s": round(r.fault.end_s, 3),
                    "detail": r.fault.detail,
                    "recovery_s": None if r.recovery_s is None else round(r.recovery_s, 3),
                }
                for r in self.recoveries
            ],
            "traffic": self.traffic,
            "invariants": [
                {
                    "name": r.name,
                    "verdict": r.verdict,
                    "statement": r.statement,
                    "detail": r.detail,
                }
                for r in self.invariants
            ],
            "notes": list(self.notes),
        }
        return json.dumps(document, indent=2)

    def render(self) -> str:
        """The summary as text."""
        lines = [
            f"soak: seed {self.seed}, {self.duration_s:g} s of quoting asked, "
            f"{self.elapsed_s:.0f} s run" + (" (compressed schedule)" if self.compressed else ""),
            "",
            "faults injected (by kind):",
        ]
        by_kind = self.faults_by_kind()
        for kind in self.kinds:
            hits = self.sim_fault_hits.get(_SIM_NAME.get(kind, kind))
            extra = f"  ({hits} simulator hits)" if hits else ""
            lines.append(f"  {kind:<26} {by_kind.get(kind, 0):>3}{extra}")
        lines += ["", f"recoveries (two-sided quoting again; bound {self.recovery_bound_s:g} s):"]
        for r in self.recoveries:
            took = "never" if r.recovery_s is None else f"{r.recovery_s:6.2f} s"
            lines.append(
                f"  t={r.fault.start_s:7.1f}s  {r.fault.kind.value:<26} {took:>9}  {r.fault.detail}"
            )
        lines += ["", "traffic:"]
        lines += [f"  {k:<26} {v}" for k, v in self.traffic.items()]
        lines += ["", "invariants:"]
        for result in self.invariants:
            lines.append(f"  {result.verdict}  {result.name}: {result.statement}")
            lines.append(f"        {result.detail}")
        if self.bot_overrides:
            lines += ["", "bot settings changed for the soak:"]
            lines += [f"  {k}={v}" for k, v in self.bot_overrides.items()]
        if self.notes:
            lines += ["", "notes:"]
            lines += [f"  {n}" for n in self.notes]
        lines += ["", f"soak {'PASSED' if self.passed else 'FAILED'}"]
        return "\n".join(lines)


_SIM_NAME = {
    "drop_mid_plan": "drop_mid_request",
    "drop_market_notification": "drop_notification",
    "drop_order_notification": "drop_notification",
    "throttle_burst": "throttle",
    "partition": "blackhole",
}
"""Soak kinds the simulator counts under another name."""
