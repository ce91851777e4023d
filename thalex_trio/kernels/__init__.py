"""numba @njit math over arrays and scalars: quote models and estimator kernels, in ticks and seconds."""
