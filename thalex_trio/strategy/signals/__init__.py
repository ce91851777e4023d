"""Signals that adjust the quotes: regimes, volume candles and pressure, options expected move."""
