"""numba @njit math over scalars and arrays: quote models and estimator kernels.

Everything in ticks and seconds (sigma in ticks/sqrt(s), A in 1/s, k and gamma in 1/tick).

Every public kernel declares its signature, so it is compiled (or loaded from numba's cache)
when its module is imported, never on a first call in the middle of a run: that call would
hold the quote loop, and the whole Trio thread with it, for tens of milliseconds (seconds on
a machine with no cache yet). `tests/kernels/test_eager_compilation.py` keeps it so.
"""
