"""Reading the simulator's state into the invariants' `Observation` (synchronous, cheap)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import trio

from thalex_trio.sim.engine.requests import AmendOrder, CancelOrder, InsertOrder
from thalex_trio.soak.invariants import Observation, SimOrder, SimRequest, SimSession

if TYPE_CHECKING:
    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.sim.engine.requests import Request
    from thalex_trio.sim.server.server import SimServer


class Probe:
    """Observes one simulator; remembers when each order took its current price and size."""

    def __init__(self, server: SimServer, origin_s: float) -> None:
        self._server = server
        self._origin_s = origin_s
        self._placed: dict[tuple[int, int | None], tuple[int, int, float]] = {}

    def observe(self) -> Observation:
        """The simulator now: our orders, requests in flight, connections and position."""
        server = self._server
        now_s = trio.current_time()
        t_s = now_s - self._origin_s
        instrument = server.core.instruments[server.config.instrument]
        placed: dict[tuple[int, int | None], tuple[int, int, float]] = {}
        orders = []
        for r in server.open_orders():
            key = (int(r.session_id), None if r.client_order_id is None else int(r.client_order_id))
            price_ticks = r.update.price_ticks or 0
            amount_lots = r.update.amount_lots
            seen = self._placed.get(key)
            since_s = t_s
            if seen is not None and seen[:2] == (price_ticks, amount_lots):
                since_s = seen[2]
            placed[key] = (price_ticks, amount_lots, since_s)
            orders.append(
                SimOrder(
                    session_id=key[0],
                    client_order_id=key[1],
                    side_sign=r.side.sign,
                    remaining_lots=r.remaining_lots,
                    amount_lots=amount_lots,
                    filled_lots=r.update.filled_lots,
                    price_ticks=price_ticks,
                    placed_s=since_s,
                )
            )
        self._placed = placed
        in_flight = tuple(
            _request(int(session_id), request, instrument)
            for session_id, request in server.core.in_flight()
        )
        sessions = tuple(
            SimSession(
                session_id=int(conn.session_id),
                silent_s=now_s - conn.last_receive_s,
                cancel_on_disconnect_s=conn.timeout_s,
                partitioned=conn.partitioned,
            )
            for conn in server.connections
            if conn.logged_in
        )
        return Observation(
            t_s=t_s,
            wall_ns=time.time_ns(),
            position_lots=server.position().size_lots,
            orders=tuple(orders),
            in_flight=in_flight,
            sessions=sessions,
        )


def _lots(instrument: Instrument, amount: float) -> int:
    return round(amount / instrument.volume_tick_size)


def _request(session_id: int, request: Request, instrument: Instrument) -> SimRequest:
    match request:
        case InsertOrder():
            return SimRequest(
                session_id,
                "insert",
                request.client_order_id,
                request.side.sign,
                _lots(instrument, request.amount),
            )
        case AmendOrder():
            return SimRequest(
                session_id, "amend", request.client_order_id, 0, _lots(instrument, request.amount)
            )
        case CancelOrder():
            return SimRequest(session_id, "cancel", request.client_order_id, 0, 0)
        case _:
            return SimRequest(session_id, "other", None, 0, 0)
