"""Persistence with sqlmodel on SQLite or PostgreSQL: tables, repositories, unit of work."""
