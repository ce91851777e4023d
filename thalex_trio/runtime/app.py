"""One run of `live` or `shadow`: configuration and credentials checked, the store and (with
`--network sim` and no URL) the simulator opened, then the supervised task tree; the exit
status and the summary table at the end."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import trio
from attrs import frozen

from thalex_trio import __version__
from thalex_trio.config import AppConfig, NetworkName, Secrets
from thalex_trio.domain.events import RunId, RunStarted, RunStopped
from thalex_trio.reconcile.params import ReconcileStyle
from thalex_trio.runtime.clock import SystemClock
from thalex_trio.runtime.context import RunContext, reconcile_settings
from thalex_trio.runtime.outcome import Outcome
from thalex_trio.runtime.session_task import SessionSpec, run_session
from thalex_trio.runtime.sim_time import SimulatorTime
from thalex_trio.runtime.status import summary_table
from thalex_trio.runtime.supervisor import run_supervised
from thalex_trio.runtime.venue import LiveVenue
from thalex_trio.store.sink import NullSink
from thalex_trio.strategy.quoter import Quoter
from thalex_trio.thalex.credentials import Credentials, CredentialsError, JwtSigner
from thalex_trio.thalex.network import Network

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from thalex_trio.domain.instrument import Instrument
    from thalex_trio.runtime.clock import WallClock
    from thalex_trio.runtime.venue import Venue
    from thalex_trio.store.sink import EventSink
    from thalex_trio.thalex.session import ThalexSession

_log = logging.getLogger(__name__)

STORE_START_DEADLINE_S = 60.0
"""The embedded database must be up within this, or the run continues unrecorded."""

Mode = Literal["live", "shadow"]

_CODES = {
    Outcome.OK: 0,
    Outcome.CRASH: 1,
    Outcome.USAGE: 2,
    Outcome.RISK_REDUCING: 10,
    Outcome.RISK_HALTED: 11,
    Outcome.CLEANUP_INCOMPLETE: 12,
}
"""Exit statuses as recorded in the store (the same as `commands.exit_codes.ExitCode`)."""


class UsageError(Exception):
    """Bad configuration, flags or credentials: exit 2, nothing sent."""


@frozen
class RunOptions:
    """What `live`/`shadow` was asked to do, after parsing."""

    mode: Mode
    config: AppConfig
    secrets: Secrets
    network: NetworkName
    sim_url: str | None = None
    keys_dir: Path | None = None
    duration_s: float | None = None
    confirm_production: bool = False
    persistence: bool = True
    status: bool = True
    handle_signals: bool = True
    sim_seed: int = 0
    sim_speed: float = 1.0
    """How fast the in-process simulator's market runs against the clock."""
    print_summary: bool = True
    stop_after_market_updates: int | None = None
    """Stop (as with `--duration`) once this many market updates were applied (benchmarks)."""
    latency_clock_ns: Callable[[], int] | None = None
    """The tick-to-order clock (`time.perf_counter_ns` by default; see `tick_to_order.py`)."""


def check_options(options: RunOptions) -> None:
    """Refuse what must not run (UsageError)."""
    config = options.config
    if (
        options.mode == "live"
        and options.network is NetworkName.PROD
        and not (options.confirm_production or config.network.confirm_production)
    ):
        raise UsageError(
            "live trading on prod needs --i-understand-this-is-real "
            "(or network.confirm_production = true)"
        )
    if config.reconcile.style is not ReconcileStyle.ORDERS:
        raise UsageError("reconcile.style: the runtime supports only 'orders'")
    if options.network is not NetworkName.SIM and options.sim_url is not None:
        raise UsageError("--sim-url needs --network sim")


def credentials_from(options: RunOptions, dev_key: tuple[str, Path] | None) -> Credentials | None:
    """The API key: from the environment, else the simulator's development key."""
    account = options.config.network.account
    s = options.secrets
    try:
        if s.key_id and s.private_key_file:
            return _parsed(
                Credentials.from_file(
                    s.key_id, Path(s.private_key_file).expanduser(), account=account
                )
            )
        if s.key_id and s.private_key:
            return _parsed(
                Credentials.from_env(s.key_id, "THALEX_TRIO_PRIVATE_KEY", account=account)
            )
    except CredentialsError as exc:
        raise UsageError(f"credentials: {exc}") from None
    if dev_key is not None:
        key_id, path = dev_key
        try:
            return _parsed(Credentials.from_file(key_id, path, account=account))
        except CredentialsError as exc:
            raise UsageError(f"development key: {exc}") from None
    if options.mode == "shadow":
        return None  # public market data only
    raise UsageError(
        "no API key: set THALEX_TRIO_KEY_ID and THALEX_TRIO_PRIVATE_KEY_FILE "
        "(or THALEX_TRIO_PRIVATE_KEY)"
    )


def _parsed(credentials: Credentials) -> Credentials:
    """`credentials` once its key parses as an RSA key (CredentialsError otherwise): a bad key
    is refused before anything connects, not at the first login."""
    JwtSigner(credentials)
    return credentials


def sim_dev_key(keys_dir: Path) -> tuple[str, Path]:
    """The one development key in `keys_dir` (the simulator writes `DIR/<key id>.pem`)."""
    pems = sorted(keys_dir.glob("*.pem"))
    if not pems:
        raise UsageError(f"no development key (*.pem) in {keys_dir}; start the simulator first")
    if len(pems) > 1:
        _log.warning("several keys in %s; using %s", keys_dir, pems[0].name)
    return pems[0].stem, pems[0]


def make_venue_factory(
    options: RunOptions, ctx: RunContext
) -> Callable[[ThalexSession, Instrument], Venue]:
    """Live orders over the session, or the shadow matching engine (one for the whole run,
    so positions and fills survive a reconnect)."""
    if options.mode == "live":
        return LiveVenue
    from thalex_trio.runtime.shadow_venue import ShadowExchange

    return ShadowExchange(options.config.engine, on_submit=ctx.sends.on_submit)


def run_app(options: RunOptions) -> Outcome:
    """Run to the end; the process exit status."""
    try:
        check_options(options)
        if options.mode == "shadow":
            pass  # public market data only: no key needed
        elif options.network is NetworkName.SIM and options.sim_url is not None:
            from thalex_trio.sim.server.keys import default_keys_dir

            dev_key: tuple[str, Path] | None = sim_dev_key(options.keys_dir or default_keys_dir())
            credentials_from(options, dev_key)
        elif options.network is not NetworkName.SIM:
            credentials_from(options, None)
    except UsageError as exc:
        print(f"thalex-trio {options.mode}: {exc}", file=sys.stderr)
        return Outcome.USAGE
    started = time.monotonic()
    holder: list[RunContext] = []
    try:
        code = trio.run(run_tree, options, holder)
    except UsageError as exc:
        print(f"thalex-trio {options.mode}: {exc}", file=sys.stderr)
        return Outcome.USAGE
    if holder and options.print_summary:
        print(summary_table(holder[0], _CODES[code], time.monotonic() - started), flush=True)
    return code


async def run_tree(options: RunOptions, holder: list[RunContext]) -> Outcome:
    """The run inside Trio: the store, the simulator (with `--network sim` and no URL) and the
    supervised tree; the run's context is appended to `holder` as soon as it exists."""
    config = options.config
    clock = SystemClock()
    async with contextlib.AsyncExitStack() as stack:
        sink = await stack.enter_async_context(_open_sink(options))
        endpoint: Network | str
        dev_key: tuple[str, Path] | None = None
        latency_clock_ns = options.latency_clock_ns
        leaves_out_simulator = False
        if options.network is NetworkName.SIM:
            if options.sim_url is None:
                from thalex_trio.sim.server.config import SimServerConfig
                from thalex_trio.sim.server.keys import default_keys_dir
                from thalex_trio.sim.server.server import open_sim_server

                if options.latency_clock_ns is None:
                    # Tick-to-order is our side of the socket only: the in-process simulator's
                    # time is left out. Installed before the simulator starts, so that every
                    # task of its is known as its.
                    sim_time = SimulatorTime()
                    trio.lowlevel.add_instrument(sim_time)
                    stack.callback(trio.lowlevel.remove_instrument, sim_time)
                    latency_clock_ns = sim_time.own_clock_ns
                    leaves_out_simulator = True
                server = await stack.enter_async_context(
                    open_sim_server(
                        SimServerConfig(
                            keys_dir=options.keys_dir or default_keys_dir(),
                            instrument=config.instrument.name,
                            seed=options.sim_seed,
                            speed=options.sim_speed,
                            status_interval_s=3600.0,
                        )
                    )
                )
                assert server.key_id is not None
                assert server.private_key_path is not None
                dev_key = (server.key_id, server.private_key_path)
                endpoint = server.url
                _log.info("simulator started in-process at %s", endpoint)
            elif options.mode == "live":
                from thalex_trio.sim.server.keys import default_keys_dir

                dev_key = sim_dev_key(options.keys_dir or default_keys_dir())
                endpoint = options.sim_url
            else:
                endpoint = options.sim_url
        else:
            endpoint = Network.PROD if options.network is NetworkName.PROD else Network.TEST
        # Shadow never logs in: market channels are public, and no order can reach the exchange.
        credentials = credentials_from(options, dev_key) if options.mode == "live" else None
        ctx = build_context(options, clock, sink)
        if latency_clock_ns is not None:
            ctx.tick_to_order.clock_ns = latency_clock_ns
        ctx.stats.latency_excludes_simulator = leaves_out_simulator
        holder.append(ctx)
        spec = SessionSpec(
            endpoint=endpoint,
            credentials=credentials,
            instrument_name=config.instrument.name,
            underlying=config.instrument.underlying,
            cancel_on_disconnect_s=config.network.cancel_on_disconnect_s,
            follow_options=config.instrument.follow_options,
        )
        make_quoter = functools.partial(
            Quoter,
            strategy=config.strategy,
            estimators=config.estimators,
            regimes=config.regimes,
            signals=config.signals,
        )
        ctx.emit(
            RunStarted(
                ctx.run_id,
                clock.now_ns(),
                options.mode,
                __version__,
                network=options.network.value,
                config_json=config.snapshot_json(),
            )
        )
        code = await run_supervised(
            ctx,
            functools.partial(
                run_session, ctx, spec, make_venue_factory(options, ctx), make_quoter
            ),
            duration_s=options.duration_s,
            stop_after_market_updates=options.stop_after_market_updates,
            status_interval_s=config.logging.status_interval_s if options.status else None,
            handle_signals=options.handle_signals,
        )
        ctx.emit(
            RunStopped(ctx.run_id, clock.now_ns(), ctx.stop_reason or "finished", _CODES[code])
        )
        return code
    raise AssertionError("unreachable")  # pragma: no cover


def build_context(options: RunOptions, clock: WallClock, sink: EventSink) -> RunContext:
    """The run's shared state from the configuration."""
    config = options.config
    params, limits = reconcile_settings(config.reconcile, config.risk)
    return RunContext(
        run_id=RunId(f"{options.mode}-{secrets.token_hex(6)}"),
        mode=options.mode,
        clock=clock,
        sink=sink,
        risk_limits=config.risk,
        reconcile_params=params,
        reconcile_limits=limits,
        quote_sample_interval_s=config.persistence.quote_sample_interval_s,
    )


@contextlib.asynccontextmanager
async def _open_sink(options: RunOptions) -> AsyncIterator[EventSink]:
    """The store's sink, or NullSink when persistence is off or the database cannot start."""
    persistence = options.config.persistence
    await trio.lowlevel.checkpoint()
    if not (options.persistence and persistence.enabled):
        yield NullSink()
        await trio.lowlevel.checkpoint()
        return
    from thalex_trio.store.lifecycle import open_store

    data_dir = None if persistence.data_dir is None else Path(persistence.data_dir)
    # The startup deadline's scope must enclose the store's whole life: the store opens
    # nurseries and scopes of its own, which may only be exited inside the scopes they were
    # entered in (a `fail_after` around the entry alone corrupts Trio's scope stack).
    yielded = False
    with trio.CancelScope(deadline=trio.current_time() + STORE_START_DEADLINE_S) as startup:
        async with contextlib.AsyncExitStack() as stack:
            sink: EventSink = NullSink()
            try:
                writer = await stack.enter_async_context(
                    open_store(options.secrets.dsn, data_dir=data_dir)
                )
                sink = writer.sink
            except Exception as exc:  # any failure to start the store: the run goes on unrecorded
                _log.warning("persistence disabled: the store did not start (%s)", exc)
            startup.deadline = math.inf
            yielded = True
            yield sink
    if not yielded:
        _log.warning(
            "persistence disabled: the store did not start within %g s", STORE_START_DEADLINE_S
        )
        yield NullSink()
    await trio.lowlevel.checkpoint()
