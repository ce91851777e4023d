"""Market sources for the engine: the seeded synthetic generator and the Binance replay, both
producing the normalised event stream of `thalex_trio.sim.events`. No trio here."""
