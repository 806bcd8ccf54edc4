"""Applying decisions through the admin connector: the operations outbox, its worker, grants."""
