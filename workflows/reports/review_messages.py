"""The quarterly review as chat messages: one per group for its owners, and one for the
admins with every group's figures side by side, each with a chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from workflows.messages import Bar, BarPanel, Chart, Fact, Message, Section
from workflows.money import format_usd
from workflows.policy import Policy
from workflows.reports.periods import Span
from workflows.reports.records import ReviewData
from workflows.reports.review import GroupReview, duration, member_quarters, role_of

MAX_SECTIONS = 40
"""Block Kit allows 50 blocks a message; headings and items together stay under this."""
TOP_MEMBERS = 8


def _requests(review: GroupReview) -> str:
    r = review.requests
    parts = [f"{r.approved} approved", f"{r.denied} denied"]
    parts += [
        f"{n} {label}"
        for n, label in ((r.cancelled, "cancelled"), (r.expired, "expired"), (r.pending, "pending"))
        if n
    ]
    return f"{r.requests}: {', '.join(parts)}" if r.requests else "none"


def _rate(review: GroupReview) -> str:
    return "no decisions" if review.approval_pct is None else f"{review.approval_pct}%"


def _waits(review: GroupReview) -> str:
    r = review.requests
    if r.median_decision_seconds is None or r.p90_decision_seconds is None:
        return "no decisions by a person"
    median, p90 = duration(r.median_decision_seconds), duration(r.p90_decision_seconds)
    return f"median {median} · 90% within {p90}"


def _grants(review: GroupReview) -> str:
    if not review.due:
        return "none came to an end"
    line = f"{review.due - len(review.late)} of {review.due}"
    if review.late:
        names = ", ".join(f"{g.name or g.request.requester} ({g.request.ref})" for g in review.late)
        line += f" · not on time: {names}"
    return line


def _use_cases(review: GroupReview) -> str:
    if not review.asked:
        return "none asked"
    return (
        f"{review.asked} asked · {review.answered} answered · {review.skipped} skipped"
        f" · {review.unanswered} not answered yet"
    )


def _heading_and_items(title: str, items: list[str], room: int) -> list[Section]:
    """A heading and its items in at most `room` sections, the last saying how many were cut."""
    if not items or room < 2:
        return []
    if len(items) < room:
        return [Section(text=title, heading=True), *(Section(text=i) for i in items)]
    shown = items[: room - 2]
    return [
        Section(text=title, heading=True),
        *(Section(text=i) for i in shown),
        Section(text=f"… and {len(items) - len(shown)} more"),
    ]


def owners_review(policy: Policy, review: GroupReview, data: ReviewData, *, span: Span) -> Message:
    """To a group's owners: their group's quarter."""
    approvers = [
        f"{a.name or a.email}: {a.approved} approved, {a.denied} denied"
        + (f" ({a.as_delegate} standing in)" if a.as_delegate else "")
        for a in data.approvers
        if a.group == review.group
    ]
    people: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for c in data.use_cases:
        if c.group != review.group:
            continue
        asked = people.setdefault(c.email, [0, 0, 0])
        asked[0] += c.asked
        asked[1] += c.answered
        asked[2] += c.skipped
        names[c.email] = c.name or c.email
    members = [
        f"{names[e]} ({role_of(policy, e)}): asked {a}, answered {n}, skipped {s}"
        for e, (a, n, s) in sorted(people.items())
    ]
    sections = _heading_and_items("Decisions per approver", approvers, MAX_SECTIONS // 2)
    sections += _heading_and_items("Use cases by member", members, MAX_SECTIONS - len(sections))
    facts = [
        Fact(label="Requests", value=_requests(review)),
        Fact(label="Approval rate", value=_rate(review)),
        Fact(label="Time to decision", value=_waits(review)),
        Fact(label="Auto-approvals", value=str(review.requests.auto_approved)),
        Fact(label="Self-approvals refused", value=str(review.requests.self_approvals_refused)),
        Fact(label="Grants ended on time", value=_grants(review)),
        Fact(label="Use cases", value=_use_cases(review)),
        Fact(label="Spend", value=format_usd(review.spent_cents)),
    ]
    if review.stands_out:
        facts.append(Fact(label="Stands out", value=review.stands_out))
    return Message(
        kind="quarterly_review",
        title=f"Quarterly review of {review.group} · {span.label}",
        text=f"{_days(span)}: what was asked, how it was decided, and what the extra was for."
        " `capdesk report review` has every figure.",
        facts=tuple(facts),
        sections=tuple(sections),
        chart=_member_chart(review.group, data, span),
    )


def _days(span: Span) -> str:
    first, last = span.first_day, span.last_day
    return f"{first.day} {first:%b} to {last.day} {last:%b %Y}"


def _member_chart(group: str, data: ReviewData, span: Span) -> Chart:
    granted = {g.request.requester for g in data.grants if g.group == group}
    names = {m.email: m.name for m in data.members}
    totals = sorted(
        (
            (email, spent, caps)
            for (g, email), (spent, caps) in member_quarters(data.members).items()
            if g == group
        ),
        key=lambda t: (-t[1], t[0]),
    )[:TOP_MEMBERS]
    bars = tuple(
        Bar(
            label=names[email] + (" (grant)" if email in granted else ""),
            value_cents=spent,
            limit_cents=caps or None,
        )
        for email, spent, caps in totals
    )
    return Chart(
        title=f"Spend in {span.label} against cap",
        panels=(BarPanel(title="Top members: the quarter's spend against their caps", bars=bars),),
    )


def _wait(seconds: float | None) -> str:
    return "—" if seconds is None else duration(seconds)


_SIDE_BY_SIDE: Sequence[tuple[str, Callable[[GroupReview], str], str | None]] = (
    ("Requests", lambda r: str(r.requests.requests), None),
    ("Approval rate", _rate, "approves"),
    ("Median time to decision", lambda r: _wait(r.requests.median_decision_seconds), "decides"),
    ("90% decided within", lambda r: _wait(r.requests.p90_decision_seconds), None),
    ("Auto-approvals", lambda r: str(r.requests.auto_approved), None),
    ("Self-approvals refused", lambda r: str(r.requests.self_approvals_refused), None),
    ("Grants ended on time", lambda r: f"{r.due - len(r.late)}/{r.due}" if r.due else "—", None),
    ("Use cases answered", lambda r: f"{r.answered}/{r.asked}" if r.asked else "—", None),
    ("Spend", lambda r: format_usd(r.spent_cents), None),
)
"""Each figure the admins see for every group on one line, and the word of a group's
`stands_out` that marks it on that line."""


def admins_review(
    policy: Policy, reviews: Sequence[GroupReview], data: ReviewData, *, span: Span
) -> Message:
    """To the admins: every group's figures next to each other, and who stands out."""
    sections = [
        Section(
            text=f"{label}: "
            + " · ".join(
                f"{r.group} {shown(r)}"
                + (" (stands out)" if marker is not None and marker in r.stands_out else "")
                for r in reviews
            )
        )
        for label, shown, marker in _SIDE_BY_SIDE
    ]
    outliers = [f"{r.group}: {r.stands_out}" for r in reviews if r.stands_out]
    late = [
        f"{r.group}: {g.name or g.request.requester} ({g.request.ref}, {g.request.kind.value})"
        for r in reviews
        for g in r.late
    ]
    sections += _heading_and_items("Stands out", outliers, (MAX_SECTIONS - len(sections)) // 2)
    sections += _heading_and_items(
        "Grants not reverted on time", late, MAX_SECTIONS - len(sections)
    )
    months = max(1, len({m.month for m in data.members}))
    bars = []
    for r in reviews:
        group = policy.group(r.group)
        budget = None if group is None else group.budget_cents
        limit = None if budget is None else budget * months
        bars.append(Bar(label=r.group, value_cents=r.spent_cents, limit_cents=limit))
    standing_out = len(outliers)
    return Message(
        kind="quarterly_review",
        title=f"Quarterly review of all groups · {span.label}",
        text=f"{_days(span)}, every group side by side."
        + (
            f" {standing_out} group{'s' if standing_out != 1 else ''} decide very differently."
            if standing_out
            else " No group decides very differently from the others."
        ),
        sections=tuple(sections),
        chart=Chart(
            title=f"Spend in {span.label} by group",
            panels=(
                BarPanel(title="Spend against the budgets of the quarter's months", bars=bars),
            ),
        ),
    )
