"""The quarterly review: per group, how requests were decided and by whom, whether grants
ended on time, what people said their extra was for, and spend against cap.

The figures come from the store (`ReportRepository.review`); this module only shapes them:
rates, whether a grant ended on time, which group decides very differently from the others.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from workflows.model import RequestKind
from workflows.money import percent_of
from workflows.policy import Policy
from workflows.reports.periods import Span, last_covered, local
from workflows.reports.records import (
    GrantSpell,
    MemberMonth,
    RequestFigures,
    ReviewData,
    ReviewQuery,
    UseCaseCount,
)
from workflows.reports.tables import Cell, Column, Kind, Report, Table

ON_TIME = timedelta(hours=1)
"""A grant's revert that took effect within this of its end was on time."""
MIN_DECIDED = 3
"""Decisions a group needs before its approval rate is compared with the others'."""
MIN_COMPARED = 3
"""Groups with enough decisions there must be to compare: of two, each would stand out."""
RATE_GAP = 25
"""Percentage points between a group's approval rate and the groups' median that stand out."""
SLOW_FACTOR = 3
"""How many times the groups' median wait a group's median must be to stand out."""


class GrantEnd:
    """How a grant's end went."""

    ON_TIME = "on_time"
    LATE = "late"
    EARLY = "ended_early"
    ENDING = "ending"
    """Its end has come, within the hour a revert may take."""
    IN_FORCE = "in_force"


def grant_end(spell: GrantSpell, now: datetime) -> str:
    """`on_time`, `late` (reverted late, or still not), `ended_early`, `ending` or
    `in_force`."""
    if spell.reverted_at is not None:
        if spell.reverted_at < spell.ends_at:
            return GrantEnd.EARLY
        return GrantEnd.ON_TIME if spell.reverted_at <= spell.ends_at + ON_TIME else GrantEnd.LATE
    if spell.ends_at > now:
        return GrantEnd.IN_FORCE
    return GrantEnd.LATE if now >= spell.ends_at + ON_TIME else GrantEnd.ENDING


@dataclass(frozen=True, slots=True)
class GroupReview:
    """One group's figures for the quarter, computed from the store's rows."""

    group: str
    requests: RequestFigures
    grants: Sequence[tuple[GrantSpell, str]]
    asked: int
    answered: int
    skipped: int
    spent_cents: int
    stands_out: str = ""

    @property
    def decided(self) -> int:
        return self.requests.approved + self.requests.denied

    @property
    def approval_pct(self) -> int | None:
        return percent_of(self.requests.approved, self.decided) if self.decided else None

    def count(self, end: str) -> int:
        return sum(1 for _, e in self.grants if e == end)

    @property
    def due(self) -> int:
        return self.count(GrantEnd.ON_TIME) + self.count(GrantEnd.LATE)

    @property
    def late(self) -> list[GrantSpell]:
        return [g for g, e in self.grants if e == GrantEnd.LATE]

    @property
    def unanswered(self) -> int:
        return self.asked - self.answered - self.skipped


def review_query(policy: Policy, span: Span, now: datetime, group: str | None) -> ReviewQuery:
    zone = policy.org.zone
    return ReviewQuery(window=span.window(zone, now), months=span.months(zone, now), group=group)


def _no_requests(group: str) -> RequestFigures:
    return RequestFigures(group, 0, 0, 0, 0, 0, 0, 0, 0, None, None)


def group_reviews(
    policy: Policy, data: ReviewData, *, group: str | None, now: datetime
) -> list[GroupReview]:
    """Every group of the policy (or the one asked for), in the policy's order, then groups
    that are gone from the policy but have requests in the quarter."""
    names = [g.name for g in policy.groups if group is None or g.name == group]
    names += sorted({r.group for r in data.requests} - set(names))
    requests = {r.group: r for r in data.requests}
    grants: dict[str, list[tuple[GrantSpell, str]]] = defaultdict(list)
    for spell in data.grants:
        grants[spell.group].append((spell, grant_end(spell, now)))
    questions: dict[str, list[UseCaseCount]] = defaultdict(list)
    for count in data.use_cases:
        questions[count.group].append(count)
    spent: dict[str, int] = defaultdict(int)
    for month in data.members:
        spent[month.group] += month.spent_cents
    reviews = [
        GroupReview(
            group=name,
            requests=requests.get(name, _no_requests(name)),
            grants=grants[name],
            asked=sum(c.asked for c in questions[name]),
            answered=sum(c.answered for c in questions[name]),
            skipped=sum(c.skipped for c in questions[name]),
            spent_cents=spent[name],
        )
        for name in names
    ]
    return _mark_outliers(reviews)


def _mark_outliers(reviews: list[GroupReview]) -> list[GroupReview]:
    """Say which groups approve or decide very differently from the groups' median (of those
    with enough decisions to compare, and only when there are enough of them)."""
    compared = [r for r in reviews if r.decided >= MIN_DECIDED]
    if len(compared) < MIN_COMPARED:
        return reviews
    usual_rate = median(r.approval_pct or 0 for r in compared)
    waits = [
        r.requests.median_decision_seconds
        for r in compared
        if r.requests.median_decision_seconds is not None
    ]
    usual_wait = median(waits) if waits else None
    marked = []
    for review in reviews:
        notes = []
        if review in compared:
            rate = review.approval_pct or 0
            if abs(rate - usual_rate) >= RATE_GAP:
                notes.append(f"approves {rate}% (the groups' median: {usual_rate:.0f}%)")
            own = review.requests.median_decision_seconds
            if own is not None and usual_wait and own >= SLOW_FACTOR * usual_wait:
                notes.append(
                    f"decides in {duration(own)} (the groups' median: {duration(usual_wait)})"
                )
        marked.append(dataclasses.replace(review, stands_out="; ".join(notes)))
    return marked


def duration(seconds: float) -> str:
    """`25m`, `5h 10m`, `3d 4h`: a wait as people read it."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def role_of(policy: Policy, email: str) -> str:
    """`admin`, `owner` (of some group) or `member`: so the review shows whether the question
    is answered the same way at every level."""
    if policy.is_admin(email):
        return "admin"
    return "owner" if policy.owns(email) else "member"


def change_of(spell: GrantSpell) -> str:
    """`cap +150 a month`, or `premium seat`: what a grant gave, without a currency sign."""
    request = spell.request
    if request.kind is RequestKind.CAP_INCREASE:
        return f"cap +{(request.amount_cents or 0) / 100:g} {request.period.per}"
    return f"{request.target_tier} seat"


@dataclass(frozen=True, slots=True)
class MonthDays:
    """The local days of one month of the quarter, so far."""

    first_day: date
    last_day: date


def grant_periods(spells: Sequence[GrantSpell], month: MonthDays, zone: ZoneInfo) -> str:
    """The grants in force during a month, as ISO intervals: `2026-11-23/2026-12-06 cap +150
    a month`."""
    marks = []
    for spell in spells:
        if spell.applied_at is None:
            continue
        first = spell.applied_at.astimezone(zone).date()
        last = last_covered(spell.reverted_at or spell.ends_at, zone)
        if first <= month.last_day and last >= month.first_day:
            marks.append(f"{first.isoformat()}/{last.isoformat()} {change_of(spell)}")
    return "; ".join(marks)


_GROUP_COLUMNS = (
    Column("group", "Group"),
    Column("requests", "Requests", Kind.COUNT),
    Column("approved", "Approved", Kind.COUNT),
    Column("denied", "Denied", Kind.COUNT),
    Column("cancelled", "Cancelled", Kind.COUNT),
    Column("expired", "Expired", Kind.COUNT),
    Column("pending", "Pending", Kind.COUNT),
    Column("approval_pct", "Approval rate", Kind.PERCENT),
    Column("median_hours_to_decision", "Median to decision", Kind.HOURS),
    Column("p90_hours_to_decision", "p90 to decision", Kind.HOURS),
    Column("auto_approved", "Auto-approved", Kind.COUNT),
    Column("self_approvals_refused", "Self-approvals refused", Kind.COUNT),
    Column("grants_due", "Grants due", Kind.COUNT),
    Column("grants_on_time", "Reverted on time", Kind.COUNT),
    Column("grants_late", "Late", Kind.COUNT),
    Column("grants_ended_early", "Ended early", Kind.COUNT),
    Column("use_cases_asked", "Use cases asked", Kind.COUNT),
    Column("use_cases_answered", "Answered", Kind.COUNT),
    Column("use_cases_skipped", "Skipped", Kind.COUNT),
    Column("spent_usd", "Spent", Kind.USD),
    Column("stands_out", "Stands out"),
)


def _group_row(review: GroupReview) -> list[Cell]:
    r = review.requests
    return [
        review.group,
        r.requests,
        r.approved,
        r.denied,
        r.cancelled,
        r.expired,
        r.pending,
        review.approval_pct,
        r.median_decision_seconds,
        r.p90_decision_seconds,
        r.auto_approved,
        r.self_approvals_refused,
        review.due,
        review.count(GrantEnd.ON_TIME),
        review.count(GrantEnd.LATE),
        review.count(GrantEnd.EARLY),
        review.asked,
        review.answered,
        review.skipped,
        review.spent_cents,
        review.stands_out,
    ]


def review_report(
    policy: Policy,
    data: ReviewData,
    *,
    span: Span,
    now: datetime,
    group: str | None = None,
) -> Report:
    """The review as tables: `groups`, `approvers`, `grants`, `use_cases`, `spend`,
    `delegations`."""
    zone = policy.org.zone
    reviews = group_reviews(policy, data, group=group, now=now)
    window = span.window(zone, now)
    tables = [
        Table(
            "groups",
            "Requests, decisions, grants and use cases per group",
            _GROUP_COLUMNS,
            [_group_row(r) for r in reviews],
        ),
        _approvers(data),
        _grants(reviews, zone, now),
        _use_cases(policy, data),
        _spend(data, zone, span, now),
        _delegations(data, zone),
    ]
    notes = [f"{r.group} stands out: {r.stands_out}." for r in reviews if r.stands_out]
    notes += [
        f"{r.group}: {g.name or g.request.requester}'s grant from request {g.request.ref} "
        f"was not reverted on time."
        for r in reviews
        for g in r.late
    ]
    return Report(
        name="review",
        title=f"Quarterly review {span.label}" + (f" · {group}" if group else " · all groups"),
        at=now.astimezone(zone),
        period={
            "quarter": span.label,
            "from": span.first_day,
            "to": span.last_day,
            "through": window.last_day,
            "group": group,
        },
        tables=tables,
        notes=notes,
    )


def _approvers(data: ReviewData) -> Table:
    return Table(
        "approvers",
        "Decisions per approver",
        (
            Column("group", "Group"),
            Column("approver", "Approver"),
            Column("name", "Name"),
            Column("approved", "Approved", Kind.COUNT),
            Column("denied", "Denied", Kind.COUNT),
            Column("as_delegate", "Standing in", Kind.COUNT),
        ),
        [[a.group, a.email, a.name, a.approved, a.denied, a.as_delegate] for a in data.approvers],
    )


def _grants(reviews: Sequence[GroupReview], zone: ZoneInfo, now: datetime) -> Table:
    rows: list[list[Cell]] = []
    for review in reviews:
        for spell, end in review.grants:
            late_by = None
            if end == GrantEnd.LATE:
                late_by = ((spell.reverted_at or now) - spell.ends_at).total_seconds()
            rows.append(
                [
                    review.group,
                    spell.request.id,
                    spell.request.requester,
                    spell.name,
                    spell.request.kind.value,
                    change_of(spell),
                    local(spell.applied_at, zone),
                    local(spell.ends_at, zone),
                    local(spell.reverted_at, zone),
                    end,
                    late_by,
                ]
            )
    return Table(
        "grants",
        "Temporary grants and how they ended",
        (
            Column("group", "Group"),
            Column("request", "Request", Kind.COUNT),
            Column("email", "Email"),
            Column("name", "Name"),
            Column("kind", "Kind"),
            Column("change", "Change"),
            Column("applied_at", "In force from", Kind.INSTANT),
            Column("ends_at", "Due to end", Kind.INSTANT),
            Column("reverted_at", "Reverted", Kind.INSTANT),
            Column("end", "End"),
            Column("late_by_hours", "Late by", Kind.HOURS),
        ),
        rows,
    )


def _use_cases(policy: Policy, data: ReviewData) -> Table:
    per_member: dict[tuple[str, str], list[UseCaseCount]] = defaultdict(list)
    for count in data.use_cases:
        per_member[(count.group, count.email)].append(count)
    rows: list[list[Cell]] = []
    for (group, email), counts in per_member.items():
        asked = sum(c.asked for c in counts)
        answered = sum(c.answered for c in counts)
        skipped = sum(c.skipped for c in counts)
        said = "; ".join(
            f"{c.use_case} ({c.answered})" if c.answered > 1 else str(c.use_case)
            for c in sorted(counts, key=lambda c: (-c.answered, c.use_case or ""))
            if c.use_case is not None and c.answered
        )
        rows.append(
            [
                group,
                email,
                counts[0].name,
                role_of(policy, email),
                asked,
                answered,
                skipped,
                asked - answered - skipped,
                said,
            ]
        )
    return Table(
        "use_cases",
        "What the extra was for, asked of each member",
        (
            Column("group", "Group"),
            Column("email", "Email"),
            Column("name", "Name"),
            Column("role", "Role"),
            Column("asked", "Asked", Kind.COUNT),
            Column("answered", "Answered", Kind.COUNT),
            Column("skipped", "Skipped", Kind.COUNT),
            Column("unanswered", "Not answered yet", Kind.COUNT),
            Column("use_cases", "Use cases"),
        ),
        rows,
    )


def _spend(data: ReviewData, zone: ZoneInfo, span: Span, now: datetime) -> Table:
    grants: dict[str, list[GrantSpell]] = defaultdict(list)
    for spell in data.grants:
        grants[spell.request.requester].append(spell)
    days = {m.label: MonthDays(m.first_day, m.last_day) for m in span.months(zone, now)}
    rows: list[list[Cell]] = [
        [
            m.group,
            m.email,
            m.name,
            m.month,
            m.spent_cents,
            m.cap_cents,
            percent_of(m.spent_cents, m.cap_cents) if m.cap_cents else None,
            grant_periods(grants[m.email], days[m.month], zone),
        ]
        for m in data.members
    ]
    return Table(
        "spend",
        "Spend against cap per member and month, with the grants in force",
        (
            Column("group", "Group"),
            Column("email", "Email"),
            Column("name", "Name"),
            Column("month", "Month"),
            Column("spent_usd", "Spent", Kind.USD),
            Column("cap_usd", "Monthly cap", Kind.USD),
            Column("used_pct", "Used", Kind.PERCENT),
            Column("grant_periods", "Grants in force"),
        ),
        rows,
    )


def _delegations(data: ReviewData, zone: ZoneInfo) -> Table:
    return Table(
        "delegations",
        "Owners away, and who stood in",
        (
            Column("group", "Group"),
            Column("delegator", "Away"),
            Column("delegator_name", "Name"),
            Column("delegate", "Stood in"),
            Column("delegate_name", "Name of who stood in"),
            Column("from", "From", Kind.INSTANT),
            Column("until", "Until", Kind.INSTANT),
            Column("ended_early", "Ended early", Kind.FLAG),
            Column("decisions", "Decisions for them", Kind.COUNT),
        ),
        [
            [
                d.group,
                d.delegator,
                d.delegator_name,
                d.delegate,
                d.delegate_name,
                local(d.starts_at, zone),
                local(d.ends_at if d.ended_at is None else min(d.ended_at, d.ends_at), zone),
                d.ended_at is not None and d.ended_at < d.ends_at,
                d.decisions,
            ]
            for d in data.delegations
        ],
    )


def member_quarters(members: Sequence[MemberMonth]) -> dict[tuple[str, str], tuple[int, int]]:
    """Per (group, email): spend over the quarter and the sum of the monthly caps."""
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for m in members:
        spent, caps = totals.get((m.group, m.email), (0, 0))
        totals[(m.group, m.email)] = (spent + m.spent_cents, caps + m.cap_cents)
    return totals
