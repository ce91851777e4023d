"""Tests of the strategy: params, fair value, ladder, estimators, signals, quoter."""
