"""The soak suite: `live --network sim` under a seeded fault schedule, checked continuously.

`python -m thalex_trio.soak` (or `scripts/soak`) runs the simulator in this process with the
faults of `schedule`, the bot as a subprocess against it with its own PostgreSQL, and the
checks of `invariants` on the simulator's state every 100 ms and at the end; `summary` prints
and writes what happened. It sits at the top of the layers, beside `commands`.
"""
