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

_RECENTRE_MARGIN_FRACTION = 8  # recentre when the touch is within width/8 of an edge


class BookState:
    """The displayed book of one instrument plus our resting orders' queue state.

    The window starts centred on the first price seen (or `centre_ticks`) and is recentred on
    the touch when the touch comes near an edge; levels pushed out of the window are dropped.
    """

    def __init__(
        self, width_ticks: int, slot_capacity: int, centre_ticks: int | None = None
    ) -> None:
        self.width_ticks = width_ticks
        self.bid_lots = np.zeros(width_ticks, dtype=np.int64)
        self.ask_lots = np.zeros(width_ticks, dtype=np.int64)
        self.st = np.zeros(k.ST_SIZE, dtype=np.int64)
        self.fst = np.full(k.FST_SIZE, np.nan, dtype=np.float64)
        self.st[k.ST_BEST_BID] = -1
        self.st[k.ST_BEST_ASK] = width_ticks
        self.placed = centre_ticks is not None
        if centre_ticks is not None:
            self.st[k.ST_BASE] = centre_ticks - width_ticks // 2
        self.o_side = np.zeros(slot_capacity, dtype=np.int64)
        self.o_price = np.zeros(slot_capacity, dtype=np.int64)
        self.o_rem = np.zeros(slot_capacity, dtype=np.int64)
        self.o_front = np.zeros(slot_capacity, dtype=np.float64)
        self.o_cum = np.zeros(slot_capacity, dtype=np.float64)
        self.f_slot = np.zeros(slot_capacity, dtype=np.int64)
        self.f_ts = np.zeros(slot_capacity, dtype=np.int64)
        self.f_price = np.zeros(slot_capacity, dtype=np.int64)
        self.f_lots = np.zeros(slot_capacity, dtype=np.int64)
        self.free_slots: list[int] = list(range(slot_capacity - 1, -1, -1))
        self.pending: deque[tuple[Events, int]] = deque()
        self._bounds_dirty = False
        self.refresh_bounds()

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
        return int(self.bid_lots[i] if side is Side.BUY else self.ask_lots[i])

    def depth(self, side: Side, n_levels: int) -> list[tuple[int, int]]:
        """Up to `n_levels` displayed (price_ticks, lots) levels, best first."""
        base = int(self.st[k.ST_BASE])
        lots = self.bid_lots if side is Side.BUY else self.ask_lots
        idx = np.flatnonzero(lots)
        chosen = idx[::-1][:n_levels] if side is Side.BUY else idx[:n_levels]
        return [(base + int(i), int(lots[i])) for i in chosen]

    def maybe_recentre(self) -> None:
        """Shift the window so the touch sits in its middle when it nears an edge."""
        bb, ba = int(self.st[k.ST_BEST_BID]), int(self.st[k.ST_BEST_ASK])
        width = self.width_ticks
        margin = width // _RECENTRE_MARGIN_FRACTION
        touch = bb if bb >= 0 else (ba if ba < width else -1)
        if touch < 0 or margin <= touch < width - margin:
            return
        shift = touch - width // 2
        for arr in (self.bid_lots, self.ask_lots):
            moved = np.zeros_like(arr)
            if shift > 0:
                moved[: width - shift] = arr[shift:]
            else:
                moved[-shift:] = arr[: width + shift]
            arr[:] = moved
        self.st[k.ST_BASE] += shift
        bids, asks = np.flatnonzero(self.bid_lots), np.flatnonzero(self.ask_lots)
        self.st[k.ST_BEST_BID] = int(bids[-1]) if bids.shape[0] else -1
        self.st[k.ST_BEST_ASK] = int(asks[0]) if asks.shape[0] else width

    # -- our orders --------------------------------------------------------------------------

    def add_order(self, side: Side, price_ticks: int, lots: int, front_lots: float) -> int:
        """Rest an order in a free slot; returns the slot."""
        if not self.free_slots:
            self._grow()
        slot = self.free_slots.pop()
        self.o_side[slot] = side.sign
        self.o_price[slot] = price_ticks
        self.o_rem[slot] = lots
        self.o_front[slot] = front_lots
        self.o_cum[slot] = 0.0
        self.st[k.ST_N_SLOTS] = max(int(self.st[k.ST_N_SLOTS]), slot + 1)
        st = self.st
        if side is Side.BUY:
            st[k.ST_MAX_BID] = max(int(st[k.ST_MAX_BID]), price_ticks)
            st[k.ST_MIN_BID] = min(int(st[k.ST_MIN_BID]), price_ticks)
        else:
            st[k.ST_MIN_ASK] = min(int(st[k.ST_MIN_ASK]), price_ticks)
            st[k.ST_MAX_ASK] = max(int(st[k.ST_MAX_ASK]), price_ticks)
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
            self.refresh_bounds()
        return self.st

    def refresh_bounds(self) -> None:
        """Recompute our price range per side, which lets the kernel skip most events fast."""
        self._bounds_dirty = False
        live = self.o_rem > 0
        bids = self.o_price[live & (self.o_side == 1)]
        asks = self.o_price[live & (self.o_side == -1)]
        st = self.st
        st[k.ST_MAX_BID] = int(bids.max()) if bids.shape[0] else k.NO_BID
        st[k.ST_MIN_BID] = int(bids.min()) if bids.shape[0] else k.NO_ASK
        st[k.ST_MIN_ASK] = int(asks.min()) if asks.shape[0] else k.NO_ASK
        st[k.ST_MAX_ASK] = int(asks.max()) if asks.shape[0] else k.NO_BID

    def _grow(self) -> None:
        old = self.o_side.shape[0]
        new = old * 2
        for name in ("o_side", "o_price", "o_rem", "f_slot", "f_ts", "f_price", "f_lots"):
            arr = getattr(self, name)
            grown = np.zeros(new, dtype=np.int64)
            grown[:old] = arr
            setattr(self, name, grown)
        for name in ("o_front", "o_cum"):
            arr = getattr(self, name)
            grown_f = np.zeros(new, dtype=np.float64)
            grown_f[:old] = arr
            setattr(self, name, grown_f)
        self.free_slots.extend(range(new - 1, old - 1, -1))

    # -- driving the kernel ------------------------------------------------------------------

    def run(self, stop_ts_ns: int, queue_model: int, power_n: float) -> bool:
        """Apply pending events up to `stop_ts_ns`; True if it stopped on a fill."""
        self.fresh_st()
        while self.pending:
            events, start = self.pending[0]
            self.st[k.ST_N_FILLS] = 0
            nxt = k.run_events(
                events,
                start,
                stop_ts_ns,
                self.bid_lots,
                self.ask_lots,
                self.st,
                self.fst,
                self.o_side,
                self.o_price,
                self.o_rem,
                self.o_front,
                self.o_cum,
                queue_model,
                power_n,
                self.f_slot,
                self.f_ts,
                self.f_price,
                self.f_lots,
            )
            if nxt >= events.shape[0]:
                self.pending.popleft()
            else:
                self.pending[0] = (events, nxt)
            self.maybe_recentre()
            if self.st[k.ST_N_FILLS] > 0:
                return True
            if nxt < events.shape[0]:
                return False
        return False

    def next_event_ts_ns(self) -> int | None:
        """Exchange time of the next pending event, if any."""
        if not self.pending:
            return None
        events, start = self.pending[0]
        return int(events["exch_ts_ns"][start])
