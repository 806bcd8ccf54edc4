"""The request lifecycle: asking, deciding, reminding, escalating, expiring (SPEC section 5)."""
