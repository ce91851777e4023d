"""The strategy's inputs: the market as the quoter sees it, and our exposure."""

from __future__ import annotations

from attrs import frozen


@frozen
class MarketState:
    """Latest top of book (ticks, lots) and reference prices (fractional ticks; None if unknown).

    `time_ns` is the exchange time of the newest input folded in.
    """

    best_bid_ticks: int | None = None
    best_ask_ticks: int | None = None
    best_bid_lots: int = 0
    best_ask_lots: int = 0
    mark_ticks: float | None = None
    index_ticks: float | None = None
    external_ticks: float | None = None
    time_ns: int = 0

    @property
    def mid_ticks(self) -> float | None:
        """Mid price, or None unless both sides exist."""
        if self.best_bid_ticks is None or self.best_ask_ticks is None:
            return None
        return 0.5 * (self.best_bid_ticks + self.best_ask_ticks)

    @property
    def microprice_ticks(self) -> float | None:
        """Size-weighted mid: (bid * ask_size + ask * bid_size) / (bid_size + ask_size).

        It leans toward the side with less size (the side more likely to be taken next); with
        no sizes it is the mid.
        """
        if self.best_bid_ticks is None or self.best_ask_ticks is None:
            return None
        total = self.best_bid_lots + self.best_ask_lots
        if total <= 0:
            return 0.5 * (self.best_bid_ticks + self.best_ask_ticks)
        weighted = (
            self.best_bid_ticks * self.best_ask_lots + self.best_ask_ticks * self.best_bid_lots
        )
        return weighted / total

    @property
    def spread_ticks(self) -> int | None:
        """Best ask minus best bid, or None unless both sides exist."""
        if self.best_bid_ticks is None or self.best_ask_ticks is None:
            return None
        return self.best_ask_ticks - self.best_bid_ticks


@frozen
class Exposure:
    """Our position and the size of our orders per side, in lots.

    `resting_*` are acknowledged open orders and `in_flight_*` are orders whose insert or amend
    is not yet acknowledged. The ladder replaces the resting orders, so it is sized against the
    position; resting and in-flight sizes decide withdrawal (see `strategy.ladder`).
    """

    position_lots: int = 0
    resting_buy_lots: int = 0
    resting_sell_lots: int = 0
    in_flight_buy_lots: int = 0
    in_flight_sell_lots: int = 0
