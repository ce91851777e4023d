"""Benchmark bodies behind `scripts/bench.py`: each module's `run(argv)` returns a JSON-ready
dict. They time the package's real code paths; tests never assert on timings."""
