"""Money is held as integer cents everywhere, so sums and comparisons are exact."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(
    r"^\$?\s*(?P<num>[0-9][0-9,]*(?:\.[0-9]{1,2})?|\.[0-9]{1,2})\s*(?:usd|\$)?$", re.I
)


def cents_from_usd(value: Decimal | int | float | str) -> int:
    """Whole cents of a dollar amount, rounding half-up to the cent."""
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def format_usd(cents: int) -> str:
    """`$1,234.50`, or `$150` for whole dollars; negative amounts keep their sign in front."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}" if rest == 0 else f"{sign}${dollars:,}.{rest:02d}"


def parse_usd(text: str) -> int:
    """Parse what a person types as an amount (`150`, `$150`, `1,200.50`) into cents.

    Raises ValueError with a sentence fit to show that person.
    """
    cleaned = text.strip()
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    if cleaned.startswith("-"):
        raise ValueError(f"The amount must be positive, not {text.strip()}.")
    match = _AMOUNT.match(cleaned)
    if not match:
        raise ValueError(f"{text.strip()!r} is not an amount in dollars, such as 150 or 149.50.")
    try:
        return cents_from_usd(match.group("num").replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise ValueError(f"{text.strip()!r} is not an amount in dollars.") from exc
