"""The matching engine: L2 book, our orders with queue positions, latency, fills and fees.
Pure and sans-IO, driven by explicit time."""
