"""Tests of the matching engine and the market sources."""
