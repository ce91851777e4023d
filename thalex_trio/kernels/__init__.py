"""numba @njit math over scalars and arrays: quote models and estimator kernels.

Everything in ticks and seconds (sigma in ticks/sqrt(s), A in 1/s, k and gamma in 1/tick).
"""
