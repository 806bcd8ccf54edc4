"""Synthetic usage for the sandbox org, with the patterns the alert rules look for.

Activity is generated hour by hour (UTC) and daily figures are the sums of those hours, so
the two views always agree. Patterns: a weekday rhythm (weekends near zero), heavier use in
software than in project management, sprint spikes every other week, a few idle seats, a few
people near their cap, a few after-hours bursts, and one group whose month has run into its
budget.

Every pattern holds on any day, the first of a month included: the rules must have something
to show whenever the sandbox is started, so a month only a day old is shaped like the others.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from workflows.admin import DailyUsage, HourlyUsage
from workflows.alerts.forecast import month_projection
from workflows.policy.model import OrgSettings

if TYPE_CHECKING:
    from bot.connectors.sandbox.org import SandboxPerson

HISTORY_DAYS = 60
HOURLY_DAYS = 14
ORG_SETTINGS = {"timezone": "Europe/Berlin", "business_hours": "08:00-20:00", "currency": "USD"}
"""The sandbox org's `org:` settings (its built-in policy has the same)."""
ZONE = ZoneInfo(ORG_SETTINGS["timezone"])

# The share of their monthly cap people typically spend: software heavy, project management light.
_CAP_SHARE: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "electronics": (0.30, 0.60),
        "embedded": (0.35, 0.65),
        "software": (0.45, 0.75),
        "systems": (0.35, 0.65),
        "project-management": (0.15, 0.40),
    }
)
_SPRINT_BOOST: Mapping[str, float] = MappingProxyType(
    {
        "electronics": 2.0,
        "embedded": 2.0,
        "software": 2.0,
        "systems": 1.8,
        "project-management": 1.3,
    }
)
_WORKDAYS_PER_MONTH = 21.7
_WEEKEND_ACTIVE = 0.12
_DAY_OFF = 0.04
_EVENING_TAIL = 0.15
_LUNCH_HOUR = 12
# Above this share of the cap, only the people chosen to be near their cap remain; everyone
# else is brought back below it, so the near-cap count is exactly what was chosen.
_ORDINARY_CEILING = 0.80
# Local hours outside 08:00-20:00 that exist exactly once on every day, DST changes included.
_NIGHT_HOURS = (21, 22, 23, 0, 1, 5, 6)
# The share of its budget the story group has spent by today: past the 90 % budget rule...
_NEAR_BUDGET = (0.92, 0.97)
# ...and at least enough to be on course for this much of it, so the forecast rule has
# something to show late in the month too, when little of it is left to project.
_ON_COURSE_FOR = 1.05


@dataclass(frozen=True, slots=True)
class _Habits:
    """How one person works: what a working day costs and when it happens (local hours)."""

    weekday_cents: float
    cents_per_command: float
    start_hour: int
    hours: int
    boost: float


@dataclass(frozen=True, slots=True)
class _Patterns:
    """Who shows which pattern; disjoint, and never one of the exempt people."""

    last_active: Mapping[str, date]
    near_cap: frozenset[str]
    bursts: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Calendar:
    """Hours are counted as integers from the first day's UTC midnight.

    Integer keys rather than datetimes: hashing aware datetimes dominated the generation time.
    """

    today: date

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS - 1)

    @property
    def origin(self) -> datetime:
        return datetime.combine(self.first_day, time(), UTC)

    def days(self) -> list[tuple[date, int]]:
        """Each day of the history with the hour of its local midnight."""
        days = [self.first_day + timedelta(days=n) for n in range(HISTORY_DAYS)]
        # Working hours never meet a DST change (02:00-03:00 at night), so noon's offset holds.
        return [
            (day, self.hour_of(datetime.combine(day, time(12), ZONE).astimezone(UTC)) - 12)
            for day in days
        ]

    def hour_of(self, at: datetime) -> int:
        return (at - self.origin) // timedelta(hours=1)

    def day_start(self, day: date) -> int:
        return 24 * (day - self.first_day).days


# Activity of one person: hour (see _Calendar) -> [commands, spend in cents].
_Hours = dict[int, list[int]]


def generate_usage(
    rng: random.Random,
    people: Sequence[SandboxPerson],
    *,
    today: date,
    exempt: Collection[str],
    pinned: Mapping[str, float],
    near_budget: tuple[str, int],
) -> tuple[tuple[DailyUsage, ...], tuple[HourlyUsage, ...]]:
    """Daily usage for the 60 days ending at `today` and hourly usage for the last 14.

    `exempt` people get no pattern; `pinned` maps people to the share of their cap they have
    spent this month; `near_budget` names a group and its budget, which its month runs into.
    Only days and hours with activity have a row.
    """
    calendar = _Calendar(today)
    days = calendar.days()
    patterns = _pick_patterns(rng, people, calendar, exempt=exempt)
    sprint_phase = rng.randint(0, 1)
    activity: dict[str, _Hours] = {}
    habits_of: dict[str, _Habits] = {}
    for person in people:
        habits = habits_of[person.email] = _habits(rng, person)
        last_day = patterns.last_active.get(person.email, today)
        hours: _Hours = {}
        for day, midnight in days:
            if person.joined <= day <= last_day:
                sprint = day.weekday() in (2, 3, 4) and (_week(day) + sprint_phase) % 2 == 1
                _work(rng, hours, habits, day, midnight, sprint=sprint, sure=day == last_day)
        if person.email in patterns.bursts:
            _burst(rng, hours, habits, calendar)
        share = pinned.get(person.email)
        if person.email in patterns.near_cap:
            share = rng.uniform(0.86, 0.97)
        _shape_month(
            rng, hours, habits=habits, cap_cents=person.cap_cents, calendar=calendar, share=share
        )
        activity[person.email] = hours
    group, budget = near_budget
    keep = {*exempt, *patterns.near_cap, *patterns.last_active}
    members = [p for p in people if p.group == group]
    _into_budget(rng, activity, habits_of, members, budget, calendar=calendar, keep=keep)
    return _aggregate(activity, calendar)


def _into_budget(
    rng: random.Random,
    activity: Mapping[str, _Hours],
    habits: Mapping[str, _Habits],
    members: Sequence[SandboxPerson],
    budget_cents: int,
    *,
    calendar: _Calendar,
    keep: Collection[str],
) -> None:
    """Shape the group's month so it has spent 92-97 % of its budget by today, and enough to
    be on course for more than all of it by the month end whenever a forecast can be made
    (late in a month, that is more than the budget itself).

    The people in `keep` (exempt, near their cap, idle) keep their month; the others share
    the rest in proportion to their caps, each below the ordinary ceiling.
    """
    month_start = calendar.day_start(calendar.today.replace(day=1))

    def spent(email: str) -> int:
        return sum(cents for at, (_, cents) in activity[email].items() if at >= month_start)

    # The forecast's factor shrinks as the day goes by: the one at its end holds all day.
    tonight = datetime.combine(calendar.today, time(23, 59, 59), ZONE)
    projection = month_projection(tonight, OrgSettings.model_validate(ORG_SETTINGS))
    on_course = budget_cents * _ON_COURSE_FOR / projection.factor if projection.ready else 0
    target = round(max(budget_cents * rng.uniform(*_NEAR_BUDGET), on_course))
    free = [p for p in members if p.email not in keep]
    rest = target - sum(spent(p.email) for p in members if p.email in keep)
    weights = {p.email: p.cap_cents * rng.uniform(0.8, 1.2) for p in free}
    total = sum(weights.values())
    for person in free:
        share = rest * weights[person.email] / total / person.cap_cents
        _shape_month(
            rng,
            activity[person.email],
            habits=habits[person.email],
            cap_cents=person.cap_cents,
            calendar=calendar,
            share=min(max(share, 0.05), _ORDINARY_CEILING - 0.02),
        )


def _pick_patterns(
    rng: random.Random,
    people: Sequence[SandboxPerson],
    calendar: _Calendar,
    *,
    exempt: Collection[str],
) -> _Patterns:
    # Only people with the whole history, so an idle seat is not mistaken for a newcomer.
    pool = [p.email for p in people if p.email not in exempt and p.joined <= calendar.first_day]
    idle_n, near_n, burst_n = rng.randint(3, 5), rng.randint(5, 8), rng.randint(3, 4)
    chosen = rng.sample(pool, idle_n + near_n + burst_n)
    idle = chosen[:idle_n]
    # One seat idle long enough to reclaim (30 days), the others only worth a warning. The last
    # active day is a weekday worked for sure, so the idle spell is exactly as long as chosen.
    last_weekdays = [
        [calendar.today - timedelta(days=n) for n in range(low, high + 1)]
        for low, high in [(30, 40)] + [(15, 29)] * (idle_n - 1)
    ]
    return _Patterns(
        last_active={
            email: rng.choice([day for day in days if day.weekday() < 5])
            for email, days in zip(idle, last_weekdays, strict=True)
        },
        near_cap=frozenset(chosen[idle_n : idle_n + near_n]),
        bursts=frozenset(chosen[idle_n + near_n :]),
    )


def _habits(rng: random.Random, person: SandboxPerson) -> _Habits:
    low, high = _CAP_SHARE[person.group]
    monthly = person.cap_cents * rng.uniform(low, high)
    return _Habits(
        weekday_cents=monthly / _WORKDAYS_PER_MONTH,
        cents_per_command=rng.uniform(5.0, 11.0),
        start_hour=rng.randint(8, 10),
        hours=rng.randint(8, 9),
        boost=_SPRINT_BOOST[person.group],
    )


def _work(
    rng: random.Random,
    hours: _Hours,
    habits: _Habits,
    day: date,
    midnight: int,
    *,
    sprint: bool,
    sure: bool,
) -> None:
    """One day's work; `sure` rules out a day off."""
    weekend = day.weekday() >= 5
    if weekend:
        if rng.random() >= _WEEKEND_ACTIVE:
            return
        local_hours = sorted(rng.sample(range(10, 17), 3))
        scale = 0.3
    else:
        if rng.random() < _DAY_OFF and not sure:
            return
        local_hours = list(range(habits.start_hour, habits.start_hour + habits.hours))
        scale = habits.boost if sprint else 1.0
    weights = [0.4 if h == _LUNCH_HOUR else 1.0 for h in local_hours]
    commands = habits.weekday_cents / habits.cents_per_command * scale * rng.lognormvariate(0, 0.25)
    per_weight = commands / sum(weights)
    for hour, weight in zip(local_hours, weights, strict=True):
        count = round(per_weight * weight * rng.uniform(0.5, 1.5))
        _add(rng, hours, midnight + hour, count, habits)
    if not weekend and rng.random() < _EVENING_TAIL:
        _add(rng, hours, midnight + rng.randint(20, 22), rng.randint(1, 6), habits)


def _burst(rng: random.Random, hours: _Hours, habits: _Habits, calendar: _Calendar) -> None:
    # Days 1..12 back keep the burst, even at a local night hour, inside the hourly window.
    day = calendar.today - timedelta(days=rng.randint(1, 12))
    at = datetime.combine(day, time(rng.choice(_NIGHT_HOURS)), ZONE).astimezone(UTC)
    _add(rng, hours, calendar.hour_of(at), rng.randint(65, 140), habits)


def _add(rng: random.Random, hours: _Hours, at: int, commands: int, habits: _Habits) -> None:
    if commands <= 0:
        return
    spend = max(1, round(commands * habits.cents_per_command * rng.uniform(0.7, 1.3)))
    entry = hours.setdefault(at, [0, 0])
    entry[0] += commands
    entry[1] += spend


def _shape_month(
    rng: random.Random,
    hours: _Hours,
    *,
    habits: _Habits,
    cap_cents: int,
    calendar: _Calendar,
    share: float | None,
) -> None:
    """Scale this month's spend to `share` of the cap, or below the ordinary ceiling."""
    month_start = calendar.day_start(calendar.today.replace(day=1))
    month = [at for at in hours if at >= month_start]
    spent = sum(hours[at][1] for at in month)
    if share is None:
        if spent <= cap_cents * _ORDINARY_CEILING:
            return
        share = rng.uniform(0.60, _ORDINARY_CEILING - 0.02)
    target = round(cap_cents * share)
    if not month:
        # Nothing yet this month (the 1st on a weekend): one costly session this morning.
        at = calendar.day_start(calendar.today) + 10
        hours[at] = [max(1, round(habits.weekday_cents / habits.cents_per_command)), target]
        return
    for at in month:
        hours[at][1] = round(hours[at][1] * target / spent)
    largest = max(month, key=lambda at: hours[at][1])
    hours[largest][1] += target - sum(hours[at][1] for at in month)


def _aggregate(
    activity: Mapping[str, _Hours], calendar: _Calendar
) -> tuple[tuple[DailyUsage, ...], tuple[HourlyUsage, ...]]:
    window_start = calendar.day_start(calendar.today - timedelta(days=HOURLY_DAYS - 1))
    totals: dict[tuple[int, str], list[int]] = {}
    recent: list[tuple[int, str, int, int]] = []
    for email, hours in activity.items():
        for at, (commands, spend) in hours.items():
            total = totals.setdefault((at // 24, email), [0, 0])
            total[0] += commands
            total[1] += spend
            if at >= window_start:
                recent.append((at, email, commands, spend))
    first_day = calendar.first_day
    daily = tuple(
        DailyUsage(
            email=email, day=first_day + timedelta(days=n), spend_cents=spend, commands=commands
        )
        for (n, email), (commands, spend) in sorted(totals.items())
    )
    origin = calendar.origin
    hourly = tuple(
        HourlyUsage(
            email=email,
            hour=origin + timedelta(hours=at),
            spend_cents=spend,
            commands=commands,
        )
        for at, email, commands, spend in sorted(recent)
    )
    return daily, hourly


def _week(day: date) -> int:
    # Ordinal 1 is a Monday, so this counts weeks from Monday to Sunday.
    return (day.toordinal() - 1) // 7
