"""Exposure, limits and health to a verdict and a trading state (pure)."""
