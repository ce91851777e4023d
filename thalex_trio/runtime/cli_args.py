"""The flags `live` and `shadow` share, and turning them into `RunOptions`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from thalex_trio.config import NetworkName

if TYPE_CHECKING:
    import argparse

    from thalex_trio.config import LoadedConfig
    from thalex_trio.runtime.app import Mode, RunOptions


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the shared flags."""
    parser.add_argument("--config", type=Path, metavar="PATH", help="TOML configuration file")
    parser.add_argument(
        "--network",
        choices=[n.value for n in NetworkName],
        help="prod, test or sim (default: the configuration's network.network)",
    )
    parser.add_argument("--sim-url", metavar="URL", help="connect to a simulator already running")
    parser.add_argument(
        "--keys-dir",
        type=Path,
        metavar="DIR",
        help="where the simulator's development key DIR/<key id>.pem is "
        "(default: the simulator's, $XDG_DATA_HOME/thalex_trio/sim-keys)",
    )
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--json-logs", action="store_true", help="log JSON lines to stderr")
    parser.add_argument(
        "--no-persistence", action="store_true", help="do not record the run in the store"
    )


def run_options(mode: Mode, args: argparse.Namespace, loaded: LoadedConfig) -> RunOptions:
    """`RunOptions` from parsed flags and the loaded configuration."""
    from thalex_trio.runtime.app import RunOptions

    config = loaded.config
    network = NetworkName(args.network) if args.network else config.network.network
    sim_url = args.sim_url or (config.network.sim_url if network is NetworkName.SIM else None)
    keys_dir = args.keys_dir or (
        Path(config.network.keys_dir).expanduser() if config.network.keys_dir else None
    )
    return RunOptions(
        mode=mode,
        config=config,
        secrets=loaded.secrets,
        network=network,
        sim_url=sim_url,
        keys_dir=keys_dir,
        duration_s=args.duration,
        confirm_production=bool(getattr(args, "i_understand_this_is_real", False)),
        persistence=not args.no_persistence,
    )


def load(args: argparse.Namespace) -> LoadedConfig:
    """The configuration named by `--config` (defaults without), with environment overrides."""
    from thalex_trio.config import load_config

    return load_config(args.config, os.environ)
