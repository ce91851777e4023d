"""One instrument's kernel state on the Python side: the dense L2 book window, our order slots,
the fill output arrays and the queue of market events still to apply."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from thalex_trio.domain.enums import Side
from thalex_trio.sim.engine import kernel as k

if TYPE_CHECKING:
    from thalex_trio.sim.events import Events


class BookState:
    """The displayed book of one instrument plus our resting orders' queue state.

    The window starts centred on the first price seen (or `centre_ticks`); the kernel recentres
    it on the touch when the touch comes near an edge, dropping levels pushed out of it.
    `local_clock` runs the book on the events' receive times instead of exchange times (a
    bot's view of the feed). The per-row arrays (`bid_lots`, `o_side`, `f_slot`, ...) are views
    of the packed arrays the kernel takes.
    """

    def __init__(
        self,
        width_ticks: int,
        slot_capacity: int,
        centre_ticks: int | None = None,
        *,
        local_clock: bool = False,
    ) -> None:
        self.width_ticks = width_ticks
        self.local_clock = local_clock
        self.lots = np.zeros((2, width_ticks), dtype=np.int64)
        self.bid_lots = self.lots[0]
        self.ask_lots = self.lots[1]
        self.st = np.zeros(k.ST_SIZE, dtype=np.int64)
        self.fst = np.full(k.FST_SIZE, np.nan, dtype=np.float64)
        self.st[k.ST_BEST_BID] = -1
        self.st[k.ST_BEST_ASK] = width_ticks
        self.placed = centre_ticks is not None
        if centre_ticks is not None:
            self.st[k.ST_BASE] = centre_ticks - width_ticks // 2
        self._allocate_slots(slot_capacity)
        self.free_slots: list[int] = list(range(slot_capacity - 1, -1, -1))
        self.pending: deque[tuple[Events, int]] = deque()
        self._bounds_dirty = False
        self.refresh_bounds()

    def _allocate_slots(self, capacity: int) -> None:
        self.o_int = np.zeros((k.O_INT_ROWS, capacity), dtype=np.int64)
        self.o_flt = np.zeros((k.O_FLT_ROWS, capacity), dtype=np.float64)
        self.f_out = np.zeros((k.F_ROWS, capacity), dtype=np.int64)
        self.o_side = self.o_int[k.O_SIDE]
        self.o_price = self.o_int[k.O_PRICE]
        self.o_rem = self.o_int[k.O_REM]
        self.o_front = self.o_flt[k.O_FRONT]
        self.o_cum = self.o_flt[k.O_CUM]
        self.f_slot = self.f_out[k.F_SLOT]
        self.f_ts = self.f_out[k.F_TS]
        self.f_price = self.f_out[k.F_PRICE]
        self.f_lots = self.f_out[k.F_LOTS]

    # -- market side -------------------------------------------------------------------------

    def ensure_placed(self, events: Events) -> None:
        """Centre the window on the first priced event if it has no position yet."""
        if self.placed or events.shape[0] == 0:
            return
        priced = events["price_ticks"][events["price_ticks"] != 0]
        if priced.shape[0]:
            self.st[k.ST_BASE] = int(priced[0]) - self.width_ticks // 2
            self.placed = True

    def best_bid_ticks(self) -> int | None:
        """Best displayed bid in ticks, or None when the bid side is empty."""
        i = int(self.st[k.ST_BEST_BID])
        return None if i < 0 else int(self.st[k.ST_BASE]) + i

    def best_ask_ticks(self) -> int | None:
        """Best displayed ask in ticks, or None when the ask side is empty."""
        i = int(self.st[k.ST_BEST_ASK])
        return None if i >= self.width_ticks else int(self.st[k.ST_BASE]) + i

    def level_lots(self, side: Side, price_ticks: int) -> int:
        """Displayed lots at a level (0 outside the window)."""
        i = price_ticks - int(self.st[k.ST_BASE])
        if not 0 <= i < self.width_ticks:
            return 0
        return int(self.lots[0 if side is Side.BUY else 1, i])

    def depth(self, side: Side, n_levels: int) -> list[tuple[int, int]]:
        """Up to `n_levels` displayed (price_ticks, lots) levels, best first."""
        base = int(self.st[k.ST_BASE])
        if side is Side.BUY:
            lots, best, step = self.bid_lots, int(self.st[k.ST_BEST_BID]), -1
        else:
            lots, best, step = self.ask_lots, int(self.st[k.ST_BEST_ASK]), 1
        chosen = np.empty(max(n_levels, 0), dtype=np.int64)
        found = k.depth_indices(lots, best, step, chosen)
        return [(base + i, int(lots[i])) for i in chosen[:found].tolist()]

    # -- our orders --------------------------------------------------------------------------

    def add_order(self, side: Side, price_ticks: int, lots: int, front_lots: float) -> int:
        """Rest an order in a free slot; returns the slot."""
        if not self.free_slots:
            self._grow()
        slot = self.free_slots.pop()
        sign = side.sign
        self.o_side[slot] = sign
        self.o_price[slot] = price_ticks
        self.o_rem[slot] = lots
        self.o_front[slot] = front_lots
        self.o_cum[slot] = 0.0
        st = self.st
        if slot >= st[k.ST_N_SLOTS]:
            st[k.ST_N_SLOTS] = slot + 1
        if sign > 0:
            if price_ticks > st[k.ST_MAX_BID]:
                st[k.ST_MAX_BID] = price_ticks
            if price_ticks < st[k.ST_MIN_BID]:
                st[k.ST_MIN_BID] = price_ticks
        else:
            if price_ticks < st[k.ST_MIN_ASK]:
                st[k.ST_MIN_ASK] = price_ticks
            if price_ticks > st[k.ST_MAX_ASK]:
                st[k.ST_MAX_ASK] = price_ticks
        return slot

    def remove_order(self, slot: int) -> None:
        """Free a slot."""
        self.o_side[slot] = 0
        self.o_rem[slot] = 0
        self.free_slots.append(slot)
        self._bounds_dirty = True  # recomputed lazily: removals come in bursts

    def fresh_st(self) -> k.I64:
        """The state vector with our price range up to date."""
        if self._bounds_dirty:
            self._bounds_dirty = False
            k.refresh_bounds(self.o_int, self.st)
        return self.st

    def refresh_bounds(self) -> None:
        """Recompute our price range per side, which lets the kernel skip most events fast."""
        self._bounds_dirty = False
        k.refresh_bounds(self.o_int, self.st)

    def _grow(self) -> None:
        old = self.o_int.shape[1]
        new = old * 2
        o_int, o_flt = self.o_int, self.o_flt
        self._allocate_slots(new)
        self.o_int[:, :old] = o_int
        self.o_flt[:, :old] = o_flt
        self.free_slots.extend(range(new - 1, old - 1, -1))

    # -- driving the kernel ------------------------------------------------------------------

    def run(self, stop_ts_ns: int, queue_model: int, power_n: float) -> bool:
        """Apply pending events up to `stop_ts_ns`; True if it stopped on a fill."""
        st = self.fresh_st()
        pending = self.pending
        while pending:
            events, start = pending[0]
            st[k.ST_N_FILLS] = 0
            nxt = k.run_events(
                events,
                start,
                stop_ts_ns,
                self.local_clock,
                self.lots,
                st,
                self.fst,
                self.o_int,
                self.o_flt,
                queue_model,
                power_n,
                self.f_out,
            )
            n = events.shape[0]
            if nxt >= n:
                pending.popleft()
            else:
                pending[0] = (events, nxt)
            if st[k.ST_N_FILLS] > 0:
                return True
            if nxt < n:
                return False
        return False

    def sample(self, points_ns: k.I64) -> tuple[k.I64, k.F64, int]:
        """Advance this book (which must have no orders) to each of `points_ns` in turn.

        Returns the top of book at each point (`kernel.TOP_*` columns), the reference vector
        at each point (`kernel.FST_*` columns), and how many points were reached: the rest
        need events not fed yet.
        """
        n = points_ns.shape[0]
        top = np.empty((n, k.TOP_COLUMNS), dtype=np.int64)
        ref = np.empty((n, k.FST_SIZE), dtype=np.float64)
        p = 0
        pending = self.pending
        while pending and p < n:
            events, start = pending[0]
            nxt, p = k.sample_points(
                events,
                start,
                self.local_clock,
                self.lots,
                self.st,
                self.fst,
                self.o_int,
                self.o_flt,
                self.f_out,
                points_ns,
                p,
                top,
                ref,
            )
            if nxt >= events.shape[0]:
                pending.popleft()
            else:
                pending[0] = (events, nxt)
        return top, ref, p

    def next_event_ts_ns(self) -> int | None:
        """Time (on the book's clock) of the next pending event, if any."""
        if not self.pending:
            return None
        events, start = self.pending[0]
        field = "local_ts_ns" if self.local_clock else "exch_ts_ns"
        return int(events[field][start])
