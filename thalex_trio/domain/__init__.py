"""Pure attrs values of the trading domain: instruments on integer grids, orders and their state
machine, fills, positions, quotes, actions and market data. No I/O, no trio, no psycopg."""
