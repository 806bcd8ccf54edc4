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


def percent_of(part_cents: int, whole_cents: int) -> int:
    """Whole percent of `whole_cents` that `part_cents` is, rounded down: the one rounding of
    every percentage capdesk shows (digests, messages, bars, the CLI).

    Down, because the alert rules compare in integers (`spent * 10,000 >= cap * basis
    points`): 84.9 % is not 85 %, so it is shown as 84 %, and a person shown at 85 % has
    reached an 85 % threshold. Rounding to the nearest would show 85 % where the rule has not
    fired, and one person as 97 % in one place and 96 % in another.
    """
    return part_cents * 100 // whole_cents


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


def cents_from_micros(micros: int) -> int:
    """Micro-dollars (telemetry's cost) to whole cents, half up, as the store rounds them."""
    return (micros + 5000) // 10000
