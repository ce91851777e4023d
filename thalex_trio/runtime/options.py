"""The options pipeline: the expected move from the ATM straddle of the first expiry at least
`signals.options_min_days` out, fed to the quoter's regime logic.

Per session (subscriptions belong to a connection): list the underlying's options
(`public/instruments`), pick the call and put at the strike nearest the index of the first
expiry far enough out that lists both, and subscribe to their tickers. Each ticker of the pair
(the market feed hands them over, as it does every notification not of the quoted instrument)
recomputes the expected move (`select_atm_straddle`) and gives it to
`Quoter.on_expected_move`, where it floors sigma and widens or tightens the spread.

The pick is looked at again every `REPICK_INTERVAL_S`, and at once when the `instruments`
channel reports a listing change (the chain is listed again first):
- the expiry rolls when it came within the minimum days or was delisted, or when a nearer
  qualifying expiry was listed;
- the strike moves when another one is nearer the index by more than `STRIKE_SWITCH_MARGIN`
  of the distance between the two (no flapping around the midpoint).
The subscription then moves to the new pair. The last expected move stays in force until the
new pair has both tickers; with no qualifying pair at all, the quoter is told there is none.

An options request that fails or is slow (`OPTIONS_REQUEST_DEADLINE_S`) never stops trading:
the move is dropped and the pick is tried again at the next interval.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio
from attrs import frozen

from thalex_trio.domain.enums import InstrumentKind, OptionType
from thalex_trio.domain.instrument import Instrument
from thalex_trio.strategy.signals.expected_move import select_atm_straddle
from thalex_trio.thalex.channels import INSTRUMENTS, Delay, ticker_channel
from thalex_trio.thalex.errors import ThalexRpcError
from thalex_trio.thalex.to_domain import instrument_from_wire, ticker_from_wire
from thalex_trio.thalex.wire_market import ThalexInstrumentsPayload, ThalexTicker
from thalex_trio.thalex.wire_requests import ThalexInstrumentsRequest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from thalex_trio.domain.market import Ticker
    from thalex_trio.runtime.context import Trading
    from thalex_trio.strategy.signals.expected_move import ExpectedMove
    from thalex_trio.thalex.frames import ThalexNotification
    from thalex_trio.thalex.session import ThalexSession

_log = logging.getLogger(__name__)

REPICK_INTERVAL_S = 5.0
"""How often the pick is checked against the index and the calendar."""

STRIKE_SWITCH_MARGIN = 0.2
"""Move to a nearer strike only when it is nearer by this fraction of the strike gap."""

OPTIONS_REQUEST_DEADLINE_S = 10.0
"""Listing the chain or changing the subscription must finish within this."""

OPTION_TICKER_DELAY = Delay.MS1000
"""Option tickers once a second: the expected move changes slowly."""

SECONDS_PER_DAY = 86_400.0


@frozen
class AtmPair:
    """The call and put followed: one expiry, one strike."""

    expiry_s: int
    strike: float
    call: Instrument
    put: Instrument

    @property
    def names(self) -> tuple[str, str]:
        """The call's and the put's instrument names."""
        return self.call.name, self.put.name


def pick_atm_pair(
    chain: Iterable[Instrument], index_price: float, now_s: float, min_days: float
) -> AtmPair | None:
    """The call and put at the strike nearest `index_price` of the first expiry at least
    `min_days` out that lists both at some strike; None when no expiry qualifies."""
    by_expiry: dict[int, dict[float, dict[OptionType, Instrument]]] = {}
    for option in chain:
        expiry = option.expiration_timestamp_s
        strike = option.strike_price
        kind = option.option_type
        if (
            option.kind is not InstrumentKind.OPTION
            or expiry is None
            or strike is None
            or kind is None
            or (expiry - now_s) / SECONDS_PER_DAY < min_days
        ):
            continue
        by_expiry.setdefault(expiry, {}).setdefault(strike, {})[kind] = option
    for expiry in sorted(by_expiry):
        pairs = {k: v for k, v in by_expiry[expiry].items() if len(v) == 2}
        if pairs:
            strike = min(pairs, key=lambda k: (abs(k - index_price), k))
            pair = pairs[strike]
            return AtmPair(expiry, strike, pair[OptionType.CALL], pair[OptionType.PUT])
    return None


def should_switch(
    current: AtmPair | None,
    best: AtmPair | None,
    index_price: float,
    now_s: float,
    min_days: float,
    listed: Iterable[str],
) -> bool:
    """True when the subscription should move from `current` to `best` (see the module)."""
    if best is None or current is None:
        return best is not current
    if (current.expiry_s - now_s) / SECONDS_PER_DAY < min_days:
        return True  # the expiry rolled
    names = set(listed)
    if current.call.name not in names or current.put.name not in names:
        return True  # delisted
    if best.expiry_s != current.expiry_s:
        return True  # a nearer qualifying expiry was listed
    if best.strike == current.strike:
        return False
    gain = abs(index_price - current.strike) - abs(index_price - best.strike)
    return gain > STRIKE_SWITCH_MARGIN * abs(current.strike - best.strike)


class OptionsPipeline:
    """One session's options follower (see the module); `on_market` is the feed's hook for
    notifications of other instruments, `run` the task that picks and subscribes."""

    def __init__(self, trading: Trading, now_ns: Callable[[], int], min_days: float) -> None:
        self.trading = trading
        self.now_ns = now_ns
        self.min_days = min_days
        self.chain: dict[str, Instrument] = {}
        """The underlying's listed options, by name."""
        self.pair: AtmPair | None = None
        """The pair followed (subscribed) now."""
        self.tickers: dict[str, Ticker] = {}
        """The newest ticker of each option of the pair."""
        self.move: ExpectedMove | None = None
        """The expected move last given to the quoter."""
        self.listing_changed = trio.Event()

    # -- the feed's hook -------------------------------------------------------------------

    def on_market(self, note: ThalexNotification) -> None:
        """A market notification that is not of the quoted instrument."""
        payload = note.payload
        if isinstance(payload, ThalexTicker):
            pair = self.pair
            name = note.channel.subject
            if pair is None or name not in pair.names:
                return  # a late ticker of a pair no longer followed
            option = pair.call if name == pair.call.name else pair.put
            try:
                self.tickers[option.name] = ticker_from_wire(payload, option)
            except ValueError as exc:
                _log.warning("skipping a ticker of %s that does not convert (%s)", name, exc)
                return
            self._update_move()
        elif isinstance(payload, ThalexInstrumentsPayload) and not note.snapshot:
            self.listing_changed.set()

    def _update_move(self) -> None:
        pair = self.pair
        if pair is None:
            return
        call = self.tickers.get(pair.call.name)
        put = self.tickers.get(pair.put.name)
        if call is None or put is None:
            return
        index = self.trading.index_price or call.index_price
        # The pick enforces the minimum days; here any time left counts, until the next pick.
        move = select_atm_straddle(
            ((pair.call, call), (pair.put, put)), index, self.now_ns() / 1e9, 0.0
        )
        if move is not None and move.days_to_expiry > 0:
            self._give(move)

    def _give(self, move: ExpectedMove | None) -> None:
        if move is None and self.move is not None:
            _log.info("options expected move: none")
        self.move = move
        self.trading.quoter.on_expected_move(move)

    # -- the task --------------------------------------------------------------------------

    async def run(
        self,
        session: ThalexSession,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """List the chain, follow the pick, look again every `REPICK_INTERVAL_S`; until
        cancelled."""
        try:
            with trio.fail_after(OPTIONS_REQUEST_DEADLINE_S):
                await session.subscribe([INSTRUMENTS])
        except (ThalexRpcError, trio.TooSlowError) as exc:
            _log.warning("options pipeline: no listing changes (%s); re-listing on time", exc)
        stale = True
        task_status.started()
        while True:
            try:
                with trio.fail_after(OPTIONS_REQUEST_DEADLINE_S):
                    if stale:
                        await self._list_chain(session)
                        stale = False
                    await self._repick(session)
            except (ThalexRpcError, trio.TooSlowError) as exc:
                _log.warning("options pipeline: %s; trying again in %g s", exc, REPICK_INTERVAL_S)
                self._give(None)
                stale = True
            with trio.move_on_after(REPICK_INTERVAL_S):
                await self.listing_changed.wait()
            if self.listing_changed.is_set():
                self.listing_changed = trio.Event()
                stale = True

    async def _list_chain(self, session: ThalexSession) -> None:
        underlying = self.trading.instrument.underlying
        chain: dict[str, Instrument] = {}
        for wire in await session.request(ThalexInstrumentsRequest()):
            if wire.instrument_type is not InstrumentKind.OPTION or wire.underlying != underlying:
                continue
            try:
                option = instrument_from_wire(wire)
            except ValueError as exc:  # lacks its grids, strike or expiry
                _log.debug("skipping option %s: %s", wire.instrument_name, exc)
                continue
            chain[option.name] = option
        self.chain = chain

    async def _repick(self, session: ThalexSession) -> None:
        await trio.lowlevel.checkpoint()
        index = self.trading.index_price
        if index is None:
            return  # no index yet: the next look picks
        now_s = self.now_ns() / 1e9
        best = pick_atm_pair(self.chain.values(), index, now_s, self.min_days)
        current = self.pair
        if not should_switch(current, best, index, now_s, self.min_days, self.chain):
            return
        if best is not None:
            await session.subscribe(
                [ticker_channel(name, OPTION_TICKER_DELAY) for name in best.names]
            )
        self.pair = best
        if current is not None:
            for name in current.names:
                self.tickers.pop(name, None)
            await session.unsubscribe(
                [ticker_channel(name, OPTION_TICKER_DELAY) for name in current.names]
            )
        if best is None:
            _log.warning(
                "options: no expiry at least %g days out lists a call and a put", self.min_days
            )
            self._give(None)
        else:
            _log.info(
                "options: following %s and %s (%.1f days out)",
                best.call.name,
                best.put.name,
                (best.expiry_s - now_s) / SECONDS_PER_DAY,
            )
