"""Who hears that a request frame has left: the session's `on_send` hook (the shadow engine's
`on_submit` in shadow mode) fires in the sending task, right after the frame went out.

The tick-to-order clock takes its samples from it, and the executor uses it to send a plan's
actions back to back: each action's task tells the executor its frame is out (not answered),
so the next action follows at once, in plan order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from collections.abc import Callable

    from thalex_trio.runtime.tick_to_order import TickToOrder


class SentSignals:
    """Dispatches the send hook to the tick-to-order clock and to per-task callbacks."""

    __slots__ = ("_tick_to_order", "_waiting")

    def __init__(self, tick_to_order: TickToOrder) -> None:
        self._tick_to_order = tick_to_order
        self._waiting: dict[trio.lowlevel.Task, Callable[[], object]] = {}

    def on_send(self, frame: str, local_ns: int) -> None:
        """The session's hook: a request frame left, sent by the current task."""
        self._tick_to_order.on_send(frame, local_ns)
        if self._waiting:
            callback = self._waiting.pop(trio.lowlevel.current_task(), None)
            if callback is not None:
                callback()

    def on_submit(self) -> None:
        """The shadow engine's hook: a request reached the engine, from the current task."""
        self.on_send("", 0)

    def when_sent(self, callback: Callable[[], object]) -> None:
        """Call `callback` once the current task's next request frame has left."""
        self._waiting[trio.lowlevel.current_task()] = callback

    def forget(self) -> bool:
        """Drop the current task's callback; True if it was still waiting (nothing left)."""
        return self._waiting.pop(trio.lowlevel.current_task(), None) is not None
