"""The sandbox's synthetic organisation: deterministic, about 120 people, measurable patterns."""

from __future__ import annotations

import functools
import itertools
import random
import re
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.connectors.sandbox import SandboxOrg, builtin_policy, generate_org
from workflows.admin import DailyUsage
from workflows.policy import check_membership

TODAY = date(2026, 11, 20)
BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_CAPS = {
    "electronics": 8000,
    "embedded": 8500,
    "software": 15000,
    "systems": 10000,
    "project-management": 5000,
}
GROUPS = set(DEFAULT_CAPS)
SEEDS = [1, 7, 42, 2026]
# A Sunday the 1st, and the two DST changes of 2026 in Europe/Berlin.
AWKWARD_DAYS = [date(2026, 11, 1), date(2026, 3, 29), date(2026, 10, 25)]

FIXED = {
    "ana.lima@example.com": ("Ana Lima", "systems", "admin"),
    "ravi.menon@example.com": ("Ravi Menon", "electronics", "owner"),
    "dana.okafor@example.com": ("Dana Okafor", "embedded", "owner"),
    "eve.novak@example.com": ("Eve Novak", "embedded", "member"),
    "sam.ortiz@example.com": ("Sam Ortiz", "software", "owner"),
    "lea.brandt@example.com": ("Lea Brandt", "software", "owner"),
    "tom.becker@example.com": ("Tom Becker", "software", "member"),
    "jonas.weber@example.com": ("Jonas Weber", "systems", "owner"),
    "mia.laurent@example.com": ("Mia Laurent", "project-management", "owner"),
}


@functools.cache
def cached_org(seed: int, today: date) -> SandboxOrg:
    """Orgs are immutable, so tests may share them; generating each once keeps the suite quick."""
    return generate_org(seed, today=today)


@pytest.fixture
def org() -> SandboxOrg:
    return cached_org(7, TODAY)


def month_to_date(org: SandboxOrg) -> dict[str, int]:
    spent: dict[str, int] = defaultdict(int)
    for usage in org.daily:
        if usage.day >= org.today.replace(day=1):
            spent[usage.email] += usage.spend_cents
    return spent


def idle_seats(org: SandboxOrg) -> set[str]:
    recent = {u.email for u in org.daily if u.day > org.today - timedelta(days=15)}
    return {p.email for p in org.people} - recent


def near_cap(org: SandboxOrg) -> set[str]:
    spent = month_to_date(org)
    return {p.email for p in org.people if spent[p.email] >= 0.85 * p.cap_cents}


def after_hours(org: SandboxOrg, min_commands: int) -> list[tuple[str, datetime]]:
    return [
        (u.email, u.hour)
        for u in org.hourly
        if u.commands >= min_commands and not 8 <= u.hour.astimezone(BERLIN).hour < 20
    ]


def test_same_seed_gives_the_same_org_whatever_the_global_random_state() -> None:
    random.seed(1)
    first = generate_org(7, today=TODAY)
    random.seed(2)
    assert generate_org(7, today=TODAY) == first
    assert builtin_policy(first) == builtin_policy(cached_org(7, TODAY))


def test_another_seed_gives_other_usage(org: SandboxOrg) -> None:
    assert cached_org(8, TODAY).daily != org.daily


@pytest.mark.parametrize("seed", SEEDS)
def test_about_120_people_in_five_groups(seed: int) -> None:
    org = cached_org(seed, TODAY)
    assert 110 <= len(org.people) <= 130
    assert {p.group for p in org.people} == GROUPS


@pytest.mark.parametrize("seed", SEEDS)
def test_the_fixed_people_exist_with_their_roles(seed: int) -> None:
    org = cached_org(seed, TODAY)
    for email, (name, group, role) in FIXED.items():
        person = org.person(email)
        assert person is not None, email
        assert (person.name, person.group, person.role) == (name, group, role)
    assert org.admins == ("ana.lima@example.com",)
    assert org.owners_of("software") == ("sam.ortiz@example.com", "lea.brandt@example.com")
    assert [p.name for p in org.people].count("Eve Novak") == 1


@pytest.mark.parametrize("today", [TODAY, *AWKWARD_DAYS])
def test_eve_is_a_standard_seat_at_70_to_80_percent_of_her_cap(today: date) -> None:
    org = cached_org(7, today)
    eve = org.person("Eve.Novak@example.com")
    assert eve is not None
    assert (eve.tier, eve.cap_cents) == ("standard", 8500)
    assert 0.70 <= month_to_date(org)[eve.email] / eve.cap_cents <= 0.80
    assert org.month_to_date_cents(eve.email) == month_to_date(org)[eve.email]


def test_emails_are_unique_lowercase_ascii(org: SandboxOrg) -> None:
    emails = [p.email for p in org.people]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+[0-9]*@example\.com", e) for e in emails)


def test_seats_tiers_and_caps(org: SandboxOrg) -> None:
    premium = sum(p.tier == "premium" for p in org.people)
    assert 0.05 <= premium / len(org.people) <= 0.30
    assert {p.tier for p in org.people} == {"standard", "premium"}
    # A few custom caps above the group's default, within its maximum.
    custom = [p for p in org.people if p.cap_cents != DEFAULT_CAPS[p.group]]
    assert 1 <= len(custom) <= 15
    assert all(DEFAULT_CAPS[p.group] < p.cap_cents <= 3 * DEFAULT_CAPS[p.group] for p in custom)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_few_seats_are_idle_for_15_to_40_days(seed: int) -> None:
    org = cached_org(seed, TODAY)
    idle = idle_seats(org)
    assert 3 <= len(idle) <= 5
    assert not idle & FIXED.keys()
    idle_for = [(org.today - max(u.day for u in org.daily if u.email == e)).days for e in idle]
    assert all(15 <= days <= 40 for days in idle_for)
    assert max(idle_for) >= 30  # one seat is due for the idle rule's reclaim


@pytest.mark.parametrize(
    ("seed", "today"), [(s, TODAY) for s in SEEDS] + [(7, d) for d in AWKWARD_DAYS]
)
def test_a_few_people_are_near_their_cap(seed: int, today: date) -> None:
    near = near_cap(cached_org(seed, today))
    assert 5 <= len(near) <= 8
    assert "eve.novak@example.com" not in near


@pytest.mark.parametrize(
    ("seed", "today"), [(s, TODAY) for s in SEEDS] + [(7, d) for d in AWKWARD_DAYS]
)
def test_a_few_single_hour_bursts_after_hours(seed: int, today: date) -> None:
    org = cached_org(seed, today)
    bursts = after_hours(org, 60)
    people = {email for email, _ in bursts}
    assert 3 <= len(people) <= 4
    assert len(bursts) == len(people)
    # Ordinary evening work stays far below the after-hours rule's 50 commands.
    assert after_hours(org, 50) == bursts
    window_start = datetime.combine(today - timedelta(days=13), datetime.min.time(), UTC)
    assert all(hour >= window_start for _, hour in bursts)


def test_weekdays_are_busy_and_weekends_near_zero(org: SandboxOrg) -> None:
    per_day: dict[date, int] = defaultdict(int)
    for usage in org.daily:
        per_day[usage.day] += usage.spend_cents
    days = [TODAY - timedelta(days=n) for n in range(60)]
    weekday = [per_day[d] for d in days if d.weekday() < 5]
    weekend = [per_day[d] for d in days if d.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 10 * sum(weekend) / len(weekend)


def test_software_works_harder_than_project_management(org: SandboxOrg) -> None:
    group = {p.email: p.group for p in org.people}
    commands: dict[str, int] = defaultdict(int)
    for usage in org.daily:
        commands[group[usage.email]] += usage.commands
    per_head = {g: commands[g] / len(org.members_of(g)) for g in GROUPS}
    assert per_head["software"] > 3 * per_head["project-management"]


def test_sprints_double_wednesday_to_friday_every_other_week(org: SandboxOrg) -> None:
    software = {p.email for p in org.members_of("software")}
    per_day: dict[date, int] = defaultdict(int)
    for usage in org.daily:
        if usage.email in software:
            per_day[usage.day] += usage.spend_cents
    first = TODAY - timedelta(days=59)
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    ratios = []
    while monday + timedelta(days=4) <= TODAY:
        early = sum(per_day[monday + timedelta(days=n)] for n in (0, 1)) / 2
        late = sum(per_day[monday + timedelta(days=n)] for n in (2, 3, 4)) / 3
        ratios.append(late / early)
        monday += timedelta(weeks=1)
    spikes = [r > 1.5 for r in ratios]
    assert len(spikes) >= 7
    assert all(a != b for a, b in itertools.pairwise(spikes)), ratios


def test_history_covers_60_days_and_hourly_the_last_14(org: SandboxOrg) -> None:
    assert min(u.day for u in org.daily) >= TODAY - timedelta(days=59)
    assert max(u.day for u in org.daily) == TODAY
    start = datetime.combine(TODAY - timedelta(days=13), datetime.min.time(), UTC)
    assert all(start <= u.hour < start + timedelta(days=14) for u in org.hourly)
    assert all(u.hour.minute == 0 and u.hour.utcoffset() == timedelta(0) for u in org.hourly)


@pytest.mark.parametrize("today", [TODAY, *AWKWARD_DAYS])
def test_hourly_usage_adds_up_to_the_daily_totals(today: date) -> None:
    org = cached_org(7, today)
    sums: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for usage in org.hourly:
        total = sums[(usage.email, usage.hour.date())]
        total[0] += usage.spend_cents
        total[1] += usage.commands
    covered = {
        (u.email, u.day): [u.spend_cents, u.commands]
        for u in org.daily
        if u.day >= today - timedelta(days=13)
    }
    assert covered == sums
    assert all(isinstance(u, DailyUsage) and u.spend_cents > 0 for u in org.daily)


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    generate_org(11, today=TODAY)
    assert time.perf_counter() - started < 1.0


def test_builtin_policy_puts_everyone_in_exactly_one_group(org: SandboxOrg) -> None:
    policy = builtin_policy(org)
    assert check_membership(policy, [p.email for p in org.people]) == []
    for person in org.people:
        assert sum(g.lists(person.email) for g in policy.groups) == 1
        group = policy.group_of(person.email)
        assert group is not None
        assert group.name == person.group
        assert person.cap_cents <= group.max_cap_cents


def test_builtin_policy_owners_admins_and_settings(org: SandboxOrg) -> None:
    policy = builtin_policy(org)
    owners = {
        "ravi.menon@example.com": "electronics",
        "dana.okafor@example.com": "embedded",
        "sam.ortiz@example.com": "software",
        "lea.brandt@example.com": "software",
        "jonas.weber@example.com": "systems",
        "mia.laurent@example.com": "project-management",
    }
    for email, group in owners.items():
        assert [g.name for g in policy.owns(email)] == [group]
    assert policy.admins == ["ana.lima@example.com"]
    assert policy.is_admin("Ana.Lima@example.com")
    assert policy.org.timezone == "Europe/Berlin"
    assert policy.org.business_hours == "08:00-20:00"
    assert [r.id for r in policy.rules] == [
        "cap-near",
        "after-hours",
        "idle-seat",
        "group-budget",
        "forecast",
    ]
    assert policy.digest.schedule == "0 9 * * MON-FRI"
    assert policy.requests.expire_after == timedelta(hours=72)
    caps = {g.name: (g.default_cap_cents, g.max_cap_cents) for g in policy.groups}
    assert caps == {
        "electronics": (8000, 40000),
        "embedded": (8500, 40000),
        "software": (15000, 60000),
        "systems": (10000, 40000),
        "project-management": (5000, 40000),
    }
    channels = {g.name: g.channel.slack if g.channel else None for g in policy.groups}
    assert channels == dict.fromkeys(caps, None) | {"embedded": "C0EMBEDDED"}
    assert all(g.auto_approve_cents == 2500 and g.approvals_required == 1 for g in policy.groups)


@pytest.mark.parametrize(
    ("seed", "today"),
    [(7, d) for d in (TODAY, date(2026, 11, 3), date(2026, 11, 30), date(2026, 12, 1))]
    + [(s, date(2027, 2, 1)) for s in SEEDS]
    + [(7, d) for d in AWKWARD_DAYS],
)
def test_builtin_policy_has_one_group_over_90_percent_of_budget(seed: int, today: date) -> None:
    # On the first of a month too: the usage, not the budget, tells the story.
    org = cached_org(seed, today)
    policy = builtin_policy(org)
    spent = month_to_date(org)
    used = {g.name: sum(spent[m] for m in g.members) / (g.budget_cents or 1) for g in policy.groups}
    assert [name for name, share in used.items() if share >= 0.90] == ["software"], used
    # Near its budget early in the month; late in it, over, so it is on course to overrun.
    assert used["software"] < (1.0 if today.day < 25 else 1.1)


def test_budgets_are_set_as_a_person_would_and_stay_put_all_month() -> None:
    # The software budget was once set just under its spend: $340 on 1 December.
    budgets = {
        day: {g.name: g.budget_cents for g in builtin_policy(cached_org(7, day)).groups}
        for day in (date(2026, 11, 1), date(2026, 11, 2), TODAY, date(2026, 11, 30))
    }
    assert len({tuple(b.items()) for b in budgets.values()}) == 1, budgets
    org = cached_org(7, TODAY)
    for name, budget in budgets[TODAY].items():
        caps = sum(p.cap_cents for p in org.members_of(name))
        assert budget % 10_000 == 0
        assert 0.55 * caps <= budget <= caps, name
    assert budgets[TODAY]["software"] >= 350_000
