#!/usr/bin/env python3
"""Benchmarks, one JSON object per run on stdout: `scripts/bench.py NAME [options]`.

Each benchmark lives in `thalex_trio.bench.<name>` (a module with `run(argv) -> dict`), so the
timed code is the package's own and this script only dispatches and prints.
"""

from __future__ import annotations

import importlib
import sys

import orjson

BENCHMARKS = ("codec", "core", "matching", "latency", "store", "backtest")


def main(argv: list[str]) -> int:
    """Run the benchmark named by argv[0] and print its result as one JSON object."""
    if not argv or argv[0] not in BENCHMARKS:
        print(f"usage: scripts/bench.py {{{','.join(BENCHMARKS)}}} [options]", file=sys.stderr)
        return 2
    name = argv[0]
    try:
        module = importlib.import_module(f"thalex_trio.bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"thalex_trio.bench.{name}":
            raise
        print(f"benchmark {name!r} is not available in this build yet", file=sys.stderr)
        return 3
    result = module.run(argv[1:])
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
