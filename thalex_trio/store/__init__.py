"""Persistence: schema and migrations, the batching writer (psycopg in a worker thread), and
the embedded PostgreSQL default. Start with `open_store` (lifecycle) and `EventSink` (sink)."""
