"""Timing of one reconcile: 5 levels per side against 10 live orders (the issue's benchmark).

`reconcile_us` times the heavy requote: every call reconciles a ladder that moved by one or two
ticks and had one level resized since the orders were placed, so each plan amends all ten
orders. `steady_us` times the common case of a ladder within the thresholds (an empty plan).
"""

from __future__ import annotations

import statistics
import time

from thalex_trio.domain.enums import InstrumentKind, OrderStatus, Side
from thalex_trio.domain.ids import ClientOrderId
from thalex_trio.domain.instrument import Instrument
from thalex_trio.domain.order import Order, OrderState
from thalex_trio.domain.quote import Quote, QuoteLadder
from thalex_trio.reconcile.params import ReconcileLimits, ReconcileParams
from thalex_trio.reconcile.reconciler import reconcile

LEVELS_PER_SIDE = 5
_INSTRUMENT = Instrument(
    name="BTC-PERPETUAL",
    kind=InstrumentKind.PERPETUAL,
    underlying="BTCUSD",
    tick_size=1.0,
    volume_tick_size=0.001,
    min_order_amount=0.001,
)


def _ladder(mid_ticks: int, resized_level: int) -> QuoteLadder:
    def lots(level: int) -> int:
        return 10 + level + (5 if level == resized_level else 0)

    return QuoteLadder(
        _INSTRUMENT.name,
        bids=tuple(Quote(Side.BUY, mid_ticks - 2 - 2 * k, lots(k)) for k in range(LEVELS_PER_SIDE)),
        asks=tuple(
            Quote(Side.SELL, mid_ticks + 2 + 2 * k, lots(k)) for k in range(LEVELS_PER_SIDE)
        ),
    )


def _resting(ladder: QuoteLadder) -> tuple[Order, ...]:
    orders = []
    for n, quote in enumerate(ladder.bids + ladder.asks):
        orders.append(
            Order(
                client_order_id=ClientOrderId(n + 1),
                instrument_name=_INSTRUMENT.name,
                side=quote.side,
                price_ticks=quote.price_ticks,
                amount_lots=quote.amount_lots,
                state=OrderState.OPEN,
                placed_ns=0,
                status=OrderStatus.OPEN,
            )
        )
    return tuple(orders)


def _median_us(
    ladders: list[QuoteLadder], orders: tuple[Order, ...], calls: int, warmup: int
) -> float:
    params = ReconcileParams()
    limits = ReconcileLimits(max_exposure_lots=1_000, max_order_lots=100)
    samples: list[float] = []
    clock = time.perf_counter_ns
    for n in range(warmup + calls):
        ladder = ladders[n % len(ladders)]
        start = clock()
        reconcile(
            ladder,
            orders,
            position_lots=3,
            instrument=_INSTRUMENT,
            params=params,
            limits=limits,
            next_client_order_id=ClientOrderId(1_000),
            best_bid_ticks=99_990,
            best_ask_ticks=100_010,
        )
        elapsed = clock() - start
        if n >= warmup:
            samples.append(elapsed / 1_000)
    return statistics.median(samples)


def reconcile_us(calls: int = 20_000, warmup: int = 2_000) -> float:
    """Median microseconds per reconcile that amends all ten orders, after `warmup` calls."""
    orders = _resting(_ladder(100_000, resized_level=-1))
    ladders = [_ladder(100_000 + shift, resized_level=(shift + 2) % 5) for shift in (-2, -1, 1, 2)]
    return _median_us(ladders, orders, calls, warmup)


def steady_us(calls: int = 20_000, warmup: int = 2_000) -> float:
    """Median microseconds per reconcile whose ladder is already in place (empty plan)."""
    ladder = _ladder(100_000, resized_level=-1)
    return _median_us([ladder], _resting(ladder), calls, warmup)


if __name__ == "__main__":
    print(f"reconcile, all ten amended: {reconcile_us():.2f} us median")
    print(f"reconcile, nothing to do:   {steady_us():.2f} us median")
