"""thalex_trio: a market-making bot for the Thalex derivatives exchange, on Trio."""

__version__ = "0.1.0"
