"""The Trio task tree: supervisor, feed, quote loop, executor, risk watchdog, persistence tap, restart policy, venue seam."""
