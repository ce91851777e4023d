"""Market state and position to a desired quote ladder (pure; calls the kernels)."""
