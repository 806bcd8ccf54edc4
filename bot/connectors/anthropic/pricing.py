"""An estimate of what API tokens cost, for the hourly figures of the messages report.

Only where the analytics cost report (real cost per hour) is not available to the key: the
messages usage report counts tokens, not money. The after-hours rule only needs the order of
magnitude, so list prices per model family are enough.
Source: https://platform.claude.com/docs/en/about-claude/pricing (list prices per million
tokens; a cache write costs 1.25x input for 5 minutes and 2x for an hour, a cache read 0.1x).
"""

from __future__ import annotations

from bot.connectors.anthropic.wire import MessagesResult

# USD per million tokens: (input, output). The most expensive family is the fallback, so an
# unknown model is over- rather than under-estimated.
_PRICES = {"haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (15.0, 75.0)}
_FALLBACK = _PRICES["opus"]


def estimated_cents(result: MessagesResult) -> float:
    """What one result row's tokens cost at list prices, in cents."""
    model = (result.model or "").lower()
    price_in, price_out = next(
        (price for family, price in _PRICES.items() if family in model), _FALLBACK
    )
    input_equivalent = (
        result.uncached_input_tokens
        + 1.25 * result.cache_creation.ephemeral_5m_input_tokens
        + 2.0 * result.cache_creation.ephemeral_1h_input_tokens
        + 0.1 * result.cache_read_input_tokens
    )
    dollars = (input_equivalent * price_in + result.output_tokens * price_out) / 1_000_000
    return dollars * 100
