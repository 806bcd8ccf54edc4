"""Admin connectors: the backends that hold seats, caps and usage (SPEC section 7)."""
