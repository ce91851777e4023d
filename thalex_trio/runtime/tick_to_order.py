"""Tick-to-order latency: from a market frame arriving at our session to the first order frame
it causes leaving it.

Both ends are stamped inside the process by the session's hooks, with one clock
(`time.perf_counter_ns` unless the caller injects another: the latency benchmark injects one
that stops while the in-process simulator runs):

- start: `on_frame`, the moment the session's reader takes the frame from the WebSocket
  connection, before decoding it. The feed drains every market event queued and decides once
  (newest wins), so one decision may answer several frames; its start is the arrival of the
  *oldest* of them, the first market frame that came in while the feed was idle. `on_market`
  (called as each market event is queued) and `feed_took` (as the feed takes one) count
  events in and out, which says whether a frame starts a new batch without asking the channel.
- end: `on_send` (through `SentSignals`), right after the order frame was handed to the
  connection (its bytes are with the kernel); in shadow mode, as the order reaches the engine.

The executor `arm`s the clock with the start of the ladder it is about to act on, just before
the plan; the first order sent for it (from the executor's task, or the one it started for
that order: `hand_over`) is the sample. So the wait for the previous plan's answers (one plan
in flight), the rate limiter and every scheduler pass are in. Plans that are not caused by a
market frame (a fill, an answer that lets a deferred level go) are not samples: a ladder is
measured at most once, at its first reconcile.

Each sample is also split in three stages (`RunStats.latency_stages_ns`), so that the time can
be placed: *decide*, from the frame to the quote loop publishing its ladder (decoding, the
feed, the quoter, the risk gate, the passes until the quote loop runs); *plan*, from there to
the executor arming (its wake-up, the wait for the previous plan's answers, the reconciler);
*send*, from there to the order frame leaving (the rate limiter, the order feed settling,
the tracker, encoding and the WebSocket send).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.runtime.status import RunStats
    from thalex_trio.thalex.session import MarketEvent


class TickToOrder:
    """The run's tick-to-order clock; its samples go to `RunStats.record_latency`."""

    __slots__ = (
        "_armed_origin_ns",
        "_armed_planned_ns",
        "_armed_published_ns",
        "_armed_task",
        "_batch_origin_ns",
        "_frame_ns",
        "_queued",
        "_stats",
        "_taken",
        "clock_ns",
    )

    def __init__(self, stats: RunStats, clock_ns: Callable[[], int] = time.perf_counter_ns) -> None:
        self._stats = stats
        self.clock_ns = clock_ns
        """Monotonic nanoseconds; both ends of every sample are read from it."""
        self._frame_ns = 0
        self._batch_origin_ns: int | None = None
        self._queued = 0
        self._taken = 0
        self._armed_origin_ns: int | None = None
        self._armed_published_ns = 0
        self._armed_planned_ns = 0
        self._armed_task: trio.lowlevel.Task | None = None

    # -- the session's hooks -------------------------------------------------------------------

    def new_session(self) -> None:
        """A new connection: its market stream starts empty."""
        self._queued = self._taken = 0
        self._batch_origin_ns = None
        self._armed_origin_ns = self._armed_task = None

    def on_frame(self, _frame: str | bytes, _local_ns: int) -> None:
        """Every frame, as the reader takes it (before decoding)."""
        self._frame_ns = self.clock_ns()

    def on_market(self, _event: MarketEvent) -> None:
        """A market event from the frame just taken is being queued for the feed."""
        if self._queued == self._taken:
            # The feed has taken everything before it: this frame starts the next batch.
            self._batch_origin_ns = self._frame_ns
        self._queued += 1

    def on_send(self, _frame: str, _local_ns: int) -> None:
        """A request frame left (in the sending task): the sample, if the executor armed."""
        origin_ns = self._armed_origin_ns
        if origin_ns is not None and trio.lowlevel.current_task() is self._armed_task:
            sent_ns = self.clock_ns()
            published_ns, planned_ns = self._armed_published_ns, self._armed_planned_ns
            self._stats.record_latency(
                sent_ns - origin_ns,
                (published_ns - origin_ns, planned_ns - published_ns, sent_ns - planned_ns),
            )
            self._armed_origin_ns = self._armed_task = None

    # -- the feed and the executor -------------------------------------------------------------

    def feed_took(self) -> None:
        """The feed took one market event off the stream."""
        self._taken += 1

    def take_batch_origin(self) -> int:
        """The arrival of the oldest frame behind what the feed applied since it last asked
        (now, when no hook stamped one: a stream fed by hand)."""
        origin = self._batch_origin_ns
        self._batch_origin_ns = None
        return self.clock_ns() if origin is None else origin

    def arm(self, origin_ns: int, published_ns: int) -> None:
        """The current task is about to send the first order for a ladder from `origin_ns`,
        published by the quote loop at `published_ns`; its plan is ready now."""
        self._armed_origin_ns = origin_ns
        self._armed_published_ns = published_ns
        self._armed_planned_ns = self.clock_ns()
        self._armed_task = trio.lowlevel.current_task()

    def hand_over(self) -> None:
        """The current task sends the armed order on behalf of the task that armed."""
        if self._armed_origin_ns is not None:
            self._armed_task = trio.lowlevel.current_task()

    def disarm(self) -> None:
        """The plan sent nothing (every action turned moot)."""
        self._armed_origin_ns = self._armed_task = None
