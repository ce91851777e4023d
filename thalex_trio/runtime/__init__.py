"""The Trio task tree: supervisor, feed, quote loop, executor, risk watchdog, persistence tap,
restart policy and the venue seam (live or shadow)."""
