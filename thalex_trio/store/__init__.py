"""Persistence: schema and migrations, the batching writer (psycopg in a worker thread), embedded PostgreSQL default."""
