"""`seat_tiers` as a list of names or a mapping with prices and pools; groups' cost centres."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflows.policy import PolicyError, parse_policy

BASE = """
admins: [ana@example.com]
groups:
  - {name: embedded, owners: [dana@example.com], default_cap_usd: 85, max_cap_usd: 400,
     cost_center: ENG-EMB}
"""


def test_a_list_names_the_tiers_lowest_first_without_price_or_pool() -> None:
    policy = parse_policy(BASE + "seat_tiers: [basic, standard, premium]")
    assert policy.tier_names == ("basic", "standard", "premium")
    assert all(t.seats is None and t.monthly_usd is None for t in policy.seat_tiers.values())
    assert (policy.tier_below("premium"), policy.tier_below("basic")) == ("standard", None)
    assert policy.tier_below("unknown") is None
    assert policy.groups[0].cost_center == "ENG-EMB"


def test_a_mapping_gives_tiers_a_price_and_a_pool_and_keeps_their_order() -> None:
    policy = parse_policy(
        BASE
        + "seat_tiers:\n  standard: {monthly_usd: 25}\n  premium: {monthly_usd: 125.50, seats: 10}"
        + "\n  max:\n"
    )
    assert policy.tier_names == ("standard", "premium", "max")
    premium = policy.seat_tiers["premium"]
    assert (premium.monthly_usd, premium.monthly_cents, premium.seats) == (
        Decimal("125.50"),
        12550,
        10,
    )
    assert policy.seat_tiers["max"].seats is None


def test_without_seat_tiers_there_are_standard_and_premium() -> None:
    assert parse_policy(BASE).tier_names == ("standard", "premium")


@pytest.mark.parametrize(
    ("tiers", "said"),
    [
        ("[standard, standard]", "seat_tiers: the seat tier 'standard' is listed twice"),
        ("[]", "seat_tiers: must not be empty"),
        ("{}", "seat_tiers: must not be empty"),
        ("[{standard: 1}]", "seat_tiers: must be tier names, such as [standard, premium]"),
        ("{premium: {seats: -1}}", "seat_tiers.premium.seats: must be 0 or more, got -1"),
        (
            "{premium: {seat: 2}}",
            "seat_tiers.premium.seat: unknown key 'seat' (did you mean 'seats'?)",
        ),
        ("{premium: {monthly_usd: -5}}", "seat_tiers.premium.monthly_usd: must be 0 or more"),
        ("{premium: {seats: many}}", "seat_tiers.premium.seats: must be a whole number"),
    ],
)
def test_a_bad_tier_is_one_line_naming_its_path(tiers: str, said: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(BASE + f"seat_tiers: {tiers}")
    assert said in str(error.value)


def test_a_tier_name_fits_the_store() -> None:
    with pytest.raises(PolicyError, match="at most 32 characters"):
        parse_policy(BASE + f"seat_tiers: [{'x' * 33}]")
