"""Replay sources and converters, the backtest driver, reports and plots."""
