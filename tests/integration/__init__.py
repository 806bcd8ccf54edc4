"""Integration tests on real databases (SQLite and PostgreSQL) and real processes."""
