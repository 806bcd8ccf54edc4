"""Money as integer cents: parsing what people type, formatting, rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.money import cents_from_usd, format_usd, parse_usd, percent_of


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("150", 15000),
        ("$150", 15000),
        ("$ 150", 15000),
        ("150$", 15000),
        ("150 USD", 15000),
        ("150usd", 15000),
        ("+150", 15000),
        ("  150  ", 15000),
        ("1,200.50", 120050),
        ("$1,200.50", 120050),
        ("149.5", 14950),
        ("0.05", 5),
        (".5", 50),
        ("$.99", 99),
        ("0", 0),
        ("1,000,000", 100_000_000),
    ],
)
def test_parse_usd_accepts(text: str, cents: int) -> None:
    assert parse_usd(text) == cents


@pytest.mark.parametrize(
    "text",
    ["", " ", "abc", "$", ".", "1.234", "12.", "1e5", "$$5", "5 EUR", "five", "1.2.3", ",5"],
)
def test_parse_usd_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValueError, match="is not an amount in dollars"):
        parse_usd(text)


@pytest.mark.parametrize("text", ["-5", " -5", "-$5", "-0.01"])
def test_parse_usd_refuses_negative_amounts(text: str) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        parse_usd(text)


def test_parse_usd_refuses_an_absurdly_long_number_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="is not an amount in dollars"):
        parse_usd("1" + "0" * 40)


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0"),
        (5, "$0.05"),
        (50, "$0.50"),
        (15000, "$150"),
        (14950, "$149.50"),
        (120050, "$1,200.50"),
        (123456789, "$1,234,567.89"),
        (120000, "$1,200"),
        (100_000_000, "$1,000,000"),
        (-150, "-$1.50"),
        (-15000, "-$150"),
    ],
)
def test_format_usd(cents: int, text: str) -> None:
    assert format_usd(cents) == text


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (3, 300),
        ("85", 8500),
        (Decimal("85.00"), 8500),
        (Decimal("0.005"), 1),  # half up
        (Decimal("0.004"), 0),
        ("0.015", 2),
        (1.005, 101),  # through str(), so the float's binary error does not round it down
        (0.1 + 0.2, 30),
        ("-0.005", -1),  # half away from zero
        (Decimal("400"), 40000),
    ],
)
def test_cents_from_usd(value: Decimal | int | float | str, cents: int) -> None:
    assert cents_from_usd(value) == cents


@given(st.integers(min_value=0, max_value=10**15))
def test_formatted_amounts_parse_back(cents: int) -> None:
    assert parse_usd(format_usd(cents)) == cents


@pytest.mark.parametrize(
    ("part", "whole", "percent"),
    [(8221, 8500, 96), (7225, 8500, 85), (7216, 8500, 84), (0, 8500, 0), (17000, 8500, 200)],
)
def test_percentages_are_rounded_down(part: int, whole: int, percent: int) -> None:
    assert percent_of(part, whole) == percent
