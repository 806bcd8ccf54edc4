"""Alert rules (SPEC section 6): candidates computed in SQL, firings decided and delivered here."""
