"""The sandbox's synthetic organisation: about 120 people in five groups, with their usage.

Everything derives from one `random.Random(seed)` and `today`, so a seed names one
organisation for good: the demo, the playground and the tests can rely on what they see.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from bot.connectors.sandbox.names import FIRST_NAMES, LAST_NAMES
from bot.connectors.sandbox.usage import generate_usage
from workflows.admin import DailyUsage, HourlyUsage

Role = Literal["admin", "owner", "member"]

GROUPS: tuple[str, ...] = ("electronics", "embedded", "software", "systems", "project-management")

DEFAULT_CAP_CENTS: Mapping[str, int] = MappingProxyType(
    {
        "electronics": 8000,
        "embedded": 8500,
        "software": 15000,
        "systems": 10000,
        "project-management": 5000,
    }
)

_BUDGET_PCT_OF_CAPS = 80
"""Budgets leave room for people not spending their whole cap..."""
_TIGHT_BUDGET_PCT = MappingProxyType({"software": 60})
"""...except software's, the heaviest users': their spend this month runs into it."""
STORY_GROUP = "software"
"""The group whose month has reached most of its budget, so the digest has a budget to show."""

DOMAIN = "example.com"
DEMO_REQUESTER = f"eve.novak@{DOMAIN}"
PLAYGROUND_REQUESTER = f"tom.becker@{DOMAIN}"
"""Whom the playground starts on: his owners Sam and Lea get his requests by DM."""

_GROUP_SIZE: Mapping[str, int] = MappingProxyType(
    {"electronics": 22, "embedded": 24, "software": 38, "systems": 22, "project-management": 14}
)
_PREMIUM_SHARE = 0.15
_CUSTOM_CAP_SHARE = 0.06
_RECENT_JOINER_SHARE = 0.03

# The demo and the built-in policy name these people, so every seed has them.
_FIXED: tuple[tuple[str, str, str, Role, str], ...] = (
    ("Ana", "Lima", "systems", "admin", "premium"),
    ("Ravi", "Menon", "electronics", "owner", "standard"),
    ("Dana", "Okafor", "embedded", "owner", "standard"),
    ("Eve", "Novak", "embedded", "member", "standard"),
    ("Sam", "Ortiz", "software", "owner", "premium"),
    ("Lea", "Brandt", "software", "owner", "standard"),
    ("Tom", "Becker", "software", "member", "standard"),
    ("Jonas", "Weber", "systems", "owner", "standard"),
    ("Mia", "Laurent", "project-management", "owner", "standard"),
)
_FIXED_NAMES = frozenset(f"{first} {last}" for first, last, *_ in _FIXED)


@dataclass(frozen=True, slots=True)
class SandboxPerson:
    """One person of the synthetic organisation and their seat as first generated."""

    email: str
    name: str
    group: str
    role: Role
    tier: str
    cap_cents: int
    joined: date


@dataclass(frozen=True)
class SandboxOrg:
    """A generated organisation: its people and their usage (sparse: idle hours have no row).

    `daily` covers the 60 days ending at `today`; `hourly` the last 14 of them, in UTC hours.
    """

    seed: int
    today: date
    people: tuple[SandboxPerson, ...]
    daily: tuple[DailyUsage, ...]
    hourly: tuple[HourlyUsage, ...]

    @cached_property
    def _by_email(self) -> Mapping[str, SandboxPerson]:
        return {p.email: p for p in self.people}

    @cached_property
    def _month_to_date(self) -> Mapping[str, int]:
        first = self.today.replace(day=1)
        totals: dict[str, int] = {}
        for usage in self.daily:
            if usage.day >= first:
                totals[usage.email] = totals.get(usage.email, 0) + usage.spend_cents
        return totals

    def person(self, email: str) -> SandboxPerson | None:
        """The person with this email (case-insensitive), if the organisation has them."""
        return self._by_email.get(email.lower())

    def members_of(self, group: str) -> tuple[SandboxPerson, ...]:
        """Everyone in `group`, owners included."""
        return tuple(p for p in self.people if p.group == group)

    def owners_of(self, group: str) -> tuple[str, ...]:
        """The emails of the owners of `group`."""
        return tuple(p.email for p in self.members_of(group) if p.role == "owner")

    @property
    def admins(self) -> tuple[str, ...]:
        """The emails of the organisation's admins."""
        return tuple(p.email for p in self.people if p.role == "admin")

    def budget_cents(self, group: str) -> int:
        """The monthly budget of `group` (see `monthly_budget_cents`)."""
        return monthly_budget_cents(group, [p.cap_cents for p in self.members_of(group)])

    def month_to_date_cents(self, email: str) -> int:
        """What `email` has spent since the first of `today`'s month."""
        return self._month_to_date.get(email.lower(), 0)


def monthly_budget_cents(group: str, caps: Iterable[int]) -> int:
    """A group's monthly budget as a person would set it: a share of its members' caps (80 %,
    software's 60 %), rounded up to whole hundreds of dollars. It never depends on the spend,
    so it is the same on every day of the month."""
    share = _TIGHT_BUDGET_PCT.get(group, _BUDGET_PCT_OF_CAPS)
    return -(-sum(caps) * share // 100 // 10000) * 10000


def generate_org(seed: int, *, today: date) -> SandboxOrg:
    """The organisation named by `seed`, with usage up to the end of `today`."""
    rng = random.Random(seed)
    people = _people(rng, today)
    story = [p.cap_cents for p in people if p.group == STORY_GROUP]
    daily, hourly = generate_usage(
        rng,
        people,
        today=today,
        exempt=frozenset(p.email for p in people if p.name in _FIXED_NAMES),
        pinned={DEMO_REQUESTER: rng.uniform(0.72, 0.78)},
        near_budget=(STORY_GROUP, monthly_budget_cents(STORY_GROUP, story)),
    )
    return SandboxOrg(seed=seed, today=today, people=people, daily=daily, hourly=hourly)


def _people(rng: random.Random, today: date) -> tuple[SandboxPerson, ...]:
    taken: set[str] = set()
    people: list[SandboxPerson] = []
    for group in GROUPS:
        default_cap = DEFAULT_CAP_CENTS[group]
        size = _GROUP_SIZE[group] + rng.randint(-2, 2)
        fixed = [row for row in _FIXED if row[2] == group]
        for first, last, _, role, tier in fixed:
            people.append(
                SandboxPerson(
                    email=_unique_email(first, last, taken),
                    name=f"{first} {last}",
                    group=group,
                    role=role,
                    tier=tier,
                    cap_cents=default_cap,
                    joined=today - timedelta(days=rng.randint(180, 1500)),
                )
            )
        for _ in range(size - len(fixed)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            # A second "Eve Novak" would make the demo ambiguous.
            while f"{first} {last}" in _FIXED_NAMES:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            people.append(
                SandboxPerson(
                    email=_unique_email(first, last, taken),
                    name=f"{first} {last}",
                    group=group,
                    role="member",
                    tier="premium" if rng.random() < _PREMIUM_SHARE else "standard",
                    cap_cents=_cap(rng, default_cap),
                    joined=_joined(rng, today),
                )
            )
    return tuple(people)


def _cap(rng: random.Random, default_cap: int) -> int:
    if rng.random() >= _CUSTOM_CAP_SHARE:
        return default_cap
    # Custom caps are round numbers of dollars, as a person would grant them.
    return round(default_cap * rng.choice((1.5, 2.0, 3.0)) / 500) * 500


def _joined(rng: random.Random, today: date) -> date:
    if rng.random() < _RECENT_JOINER_SHARE:
        return today - timedelta(days=rng.randint(20, 50))
    return today - timedelta(days=rng.randint(90, 1500))


def _unique_email(first: str, last: str, taken: set[str]) -> str:
    base = f"{_ascii(first)}.{_ascii(last)}"
    email, n = f"{base}@{DOMAIN}", 2
    while email in taken:
        email, n = f"{base}{n}@{DOMAIN}", n + 1
    taken.add(email)
    return email


def _ascii(name: str) -> str:
    # NFKD splits "ü" into "u" and a combining mark, which the ASCII encoding then drops.
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())
