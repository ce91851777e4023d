"""The in-process simulator's share of the Trio thread, for a tick-to-order clock that leaves
it out.

With `--network sim` and no URL the simulator runs in our process, on our Trio scheduler: between
a market frame and the order it causes, the scheduler may run the simulator's tasks (its market
pump, matching our previous order, encoding frames for us), and that time is the exchange's, not
ours. `SimulatorTime`, a Trio instrument, times every step of a simulator task (tasks started by
the simulator's code or spawned from one); `own_clock_ns` is the clock minus that time, so the
tick-to-order figures are our side of the socket only, as if the exchange were elsewhere. The
scheduler's own work between steps stays in, and so does the instrument's small cost (two clock
reads per task step).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from collections.abc import Callable

SIM_MODULE = "thalex_trio.sim."
"""Tasks whose function lives here (or spawned from such a task) are the simulator's."""


class SimulatorTime(trio.abc.Instrument):
    """Total time spent in steps of the simulator's tasks, for a clock that leaves it out.

    `clock_ns` is `time.perf_counter_ns` (wall time) or `time.thread_time_ns` (the CPU time
    of the Trio thread: what neither waits nor other processes on the machine can inflate).
    """

    def __init__(self, clock_ns: Callable[[], int] = time.perf_counter_ns) -> None:
        self.clock_ns = clock_ns
        self.sim_ns = 0
        self._sim_tasks: set[trio.lowlevel.Task] = set()
        self._step_start_ns = 0
        self.steps = 0

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        """Classify a new task: the simulator's by its function or by who spawned it."""
        if task.name.startswith(SIM_MODULE) or self._spawned_by_sim(task):
            self._sim_tasks.add(task)

    def _spawned_by_sim(self, task: trio.lowlevel.Task) -> bool:
        nursery = task.parent_nursery
        if nursery is not None and nursery.parent_task in self._sim_tasks:
            return True
        # A task started in a nursery the simulator does not own (its connection handlers
        # run in a nursery its context manager opened in our task) by a simulator task.
        try:
            spawner = trio.lowlevel.current_task()
        except RuntimeError:  # spawned outside any task (the system tasks at start)
            return False
        return spawner in self._sim_tasks

    def task_exited(self, task: trio.lowlevel.Task) -> None:
        """Forget a finished task."""
        self._sim_tasks.discard(task)

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        """Start timing a simulator step."""
        if task in self._sim_tasks:
            self._step_start_ns = self.clock_ns()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        """Add a simulator step's time."""
        if task in self._sim_tasks:
            self.sim_ns += self.clock_ns() - self._step_start_ns
            self.steps += 1

    def own_clock_ns(self) -> int:
        """`clock_ns` with the simulator's time so far left out."""
        return self.clock_ns() - self.sim_ns
