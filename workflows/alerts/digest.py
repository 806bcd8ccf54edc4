"""The digest: what fired since the last one, one message per admin channel and per group.

The admins get every digest-mode firing that notifies `admins`; each group's owners (its
channel, or each owner directly) get the firings about their group that notify `owners`. A
digest groups the firings by rule, the most urgent rule kind first and, within a rule, the most
urgent item first; every item carries its button. It stays within the `DigestBudget` of the
platforms that will show it (sections, and characters of one text; each platform's renderer
says what it holds), with "and N more" where cut. A digest with nothing to say is not sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from workflows.alerts.calendar import local_today, month_start
from workflows.alerts.records import FiringRecord
from workflows.alerts.rules import KIND_ORDER, RECLAIM
from workflows.alerts.running import admin_recipients, owner_recipients
from workflows.alerts.texts import HEADINGS
from workflows.messages import (
    ADMIN_CHANNEL,
    Action,
    Bar,
    BarPanel,
    Chart,
    Message,
    Outgoing,
    Section,
    group_channel,
)
from workflows.money import cents_from_micros, format_usd
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.telemetry.model import UnmatchedReport
from workflows.timefmt import local_day

TOP_SPENDERS = 8


@dataclass(frozen=True, slots=True)
class DigestBudget:
    """What one digest message may hold on a platform."""

    sections: int
    """Headings, items and "and N more" lines together."""
    text: int
    """Characters of one text (the summary, a heading, an item)."""

    @staticmethod
    def tightest(budgets: Iterable[DigestBudget]) -> DigestBudget:
        """What fits every one of `budgets`: a digest may be shown on any of them."""
        found = list(budgets)
        if not found:
            raise ValueError("no budget to fit")
        return DigestBudget(
            sections=min(b.sections for b in found), text=min(b.text for b in found)
        )


@dataclass(frozen=True, slots=True)
class DigestSent:
    """One channel's digest: how many firings it covered, and whether a message went out."""

    channel: str
    items: int
    sent: bool


@dataclass(frozen=True, slots=True)
class _Item:
    rule_id: str
    kind: str
    summary: str
    urgency: float
    action: Action | None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _latest(records: Sequence[FiringRecord]) -> list[FiringRecord]:
    """One item per rule and subject: an idle seat past both stages shows only as reclaimable."""
    best: dict[tuple[str, str], FiringRecord] = {}
    for r in records:
        rank = (float(r.details.get("urgency", 0.0)), r.details.get("stage") == RECLAIM)
        kept = best.get((r.rule_id, r.subject))
        if kept is None or rank >= (
            float(kept.details.get("urgency", 0.0)),
            kept.details.get("stage") == RECLAIM,
        ):
            best[(r.rule_id, r.subject)] = r
    return list(best.values())


def _items(records: Sequence[FiringRecord]) -> list[_Item]:
    items = []
    for r in _latest(records):
        action = r.details.get("action")
        items.append(
            _Item(
                rule_id=r.rule_id,
                kind=str(r.details.get("kind", "")),
                summary=str(r.details.get("summary", r.subject)),
                urgency=float(r.details.get("urgency", 0.0)),
                action=None if action is None else Action.model_validate(action),
            )
        )
    return items


def _ordered_rules(items: Sequence[_Item], policy: Policy) -> list[tuple[str, list[_Item]]]:
    by_rule: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        by_rule[item.rule_id].append(item)
    position = {rule.id: n for n, rule in enumerate(policy.rules)}

    def rank(rule_id: str) -> tuple[int, int, str]:
        kind = by_rule[rule_id][0].kind
        order = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
        return (order, position.get(rule_id, len(position)), rule_id)

    return [
        (rule_id, sorted(by_rule[rule_id], key=lambda i: (-i.urgency, i.summary)))
        for rule_id in sorted(by_rule, key=rank)
    ]


def _allot(sizes: list[int], budget: int) -> list[int]:
    """Item slots per rule: one each in turn, most urgent rule first, until the budget is spent."""
    shown = [0] * len(sizes)
    while budget > 0 and any(s < n for s, n in zip(shown, sizes, strict=True)):
        for index, size in enumerate(sizes):
            if budget and shown[index] < size:
                shown[index] += 1
                budget -= 1
    return shown


ESTIMATED = (
    "Figures marked estimated are Claude Code's own telemetry at list prices, for days the"
    " backend has not reported yet; its figures replace them when they arrive."
)
UNKNOWN_HEADING = "Telemetry from e-mails no member has"
UNKNOWN_SHOWN = 5


def _unknown_sections(unknown: Sequence[UnmatchedReport], budget: DigestBudget) -> list[Section]:
    """The admins' lines about telemetry capdesk could not put on a member."""
    if not unknown:
        return []
    lines = []
    for u in unknown[:UNKNOWN_SHOWN]:
        who = u.email or "(no e-mail in the telemetry)"
        group = f", counted for {u.group}" if u.group else ""
        lines.append(
            f"{who}: {u.points} data points, {format_usd(cents_from_micros(u.cost_micros))}"
            f" estimated{group}"
        )
    if len(unknown) > UNKNOWN_SHOWN:
        lines.append(f"… and {len(unknown) - UNKNOWN_SHOWN} more")
    return [
        Section(text=f"{UNKNOWN_HEADING} · {len(unknown)}", heading=True),
        Section(
            text=_clip(
                "\n".join(lines) + "\nAdd them as members (or fix their e-mail in the"
                " telemetry) so their usage counts against a cap.",
                budget.text,
            )
        ),
    ]


def compose_digest(
    records: Sequence[FiringRecord],
    policy: Policy,
    *,
    now: datetime,
    audience: str,
    budget: DigestBudget,
    chart: Chart | None = None,
    unknown: Sequence[UnmatchedReport] = (),
) -> Message | None:
    """The digest message for these firings (and, for the admins, the e-mails no member has
    that sent telemetry), or None when there is nothing to say."""
    if not records and not unknown:
        return None
    if not records:
        return Message(
            kind="digest",
            title=f"capdesk digest for {audience} · {local_day(now, policy.org.zone, now=now)}",
            text=f"No alerts since the last digest; telemetry came from {len(unknown)}"
            f" e-mail{'s' if len(unknown) != 1 else ''} no member has.",
            sections=tuple(_unknown_sections(unknown, budget)[: budget.sections]),
        )
    rules = _ordered_rules(_items(records), policy)
    # Each rule needs its heading and may need an "and N more" line; rules that do not fit
    # at all are summed up in one last line.
    fitting = rules[: max(1, (budget.sections - 1) // 3)]
    left_out = sum(len(items) for _, items in rules[len(fitting) :])
    slots = budget.sections - 2 * len(fitting) - (1 if left_out else 0)
    shown = _allot([len(items) for _, items in fitting], slots)
    sections: list[Section] = []
    for (rule_id, items), count in zip(fitting, shown, strict=True):
        heading = HEADINGS.get(items[0].kind, items[0].kind)
        title = _clip(f"{heading} · {len(items)} ({rule_id})", budget.text)
        sections.append(Section(text=title, heading=True))
        sections += [
            Section(text=_clip(i.summary, budget.text), action=i.action) for i in items[:count]
        ]
        if count < len(items):
            sections.append(Section(text=f"… and {len(items) - count} more"))
    if left_out:
        sections.append(Section(text=f"… and {left_out} more under other rules"))
    counts = "; ".join(
        f"{HEADINGS.get(items[0].kind, items[0].kind).lower()}: {len(items)}" for _, items in rules
    )
    total = sum(len(items) for _, items in rules)
    text = f"{total} alert{'s' if total != 1 else ''} since the last digest: {counts}."
    if any(r.details.get("estimated") for r in records):
        text += " " + ESTIMATED
    return Message(
        kind="digest",
        title=f"capdesk digest for {audience} · {local_day(now, policy.org.zone, now=now)}",
        text=_clip(text, budget.text),
        sections=tuple(
            sections + _unknown_sections(unknown, budget)[: max(0, budget.sections - len(sections))]
        ),
        chart=chart,
    )


def digest_chart(uow: UnitOfWork, policy: Policy, *, now: datetime, group: str | None) -> Chart:
    """Spend by group against budget (the admins' digest) and the top spenders against cap."""
    today = local_today(now, policy.org)
    start = month_start(today)
    panels = []
    if group is None:
        standings = uow.alerts.groups(month_start=start, today=today)
        panels.append(
            BarPanel(
                title="Spend by group against budget",
                bars=tuple(
                    Bar(label=g.name, value_cents=g.spent_cents, limit_cents=g.budget_cents)
                    for g in standings
                ),
            )
        )
    spenders = uow.alerts.top_spenders(
        month_start=start, today=today, limit=TOP_SPENDERS, group=group
    )
    panels.append(
        BarPanel(
            title="Top spenders against their cap",
            bars=tuple(
                Bar(label=m.name, value_cents=m.spent_cents, limit_cents=m.cap_cents or None)
                for m in spenders
            ),
        )
    )
    return Chart(title=f"Spend this month ({today:%B %Y})", panels=tuple(panels))


def channels(policy: Policy) -> list[str]:
    """Every digest channel: the admins', then each group's."""
    return [ADMIN_CHANNEL] + [group_channel(g.name) for g in policy.groups]


def send_digests(
    uow_factory: Callable[[], UnitOfWork],
    policy: Policy,
    *,
    now: datetime,
    budget: DigestBudget,
    only: Collection[str] | None = None,
) -> list[DigestSent]:
    """Queue the digest of each channel (`admin`, `group:<name>`; all unless `only`), each
    within `budget`."""
    sent = []
    with uow_factory() as uow:
        for channel in channels(policy):
            if only is not None and channel not in only:
                continue
            unknown: Sequence[UnmatchedReport] = ()
            if channel == ADMIN_CHANNEL:
                records = uow.alerts.take_digest("admins", now=now)
                unknown = uow.telemetry.unmatched_to_report(now=now)
                recipients = admin_recipients(policy)
                group = None
                audience = "the admins"
            else:
                group = channel.removeprefix("group:")
                records = uow.alerts.take_digest("owners", now=now, group=group)
                recipients = owner_recipients(policy, group)
                audience = group
            message = None
            if records:
                chart = digest_chart(uow, policy, now=now, group=group)
                message = compose_digest(
                    records,
                    policy,
                    now=now,
                    audience=audience,
                    budget=budget,
                    chart=chart,
                    unknown=unknown,
                )
            elif unknown:
                message = compose_digest(
                    records, policy, now=now, audience=audience, budget=budget, unknown=unknown
                )
            if message is not None:
                for recipient in recipients:
                    uow.notifications.add(Outgoing(recipient=recipient, message=message), at=now)
            sent.append(DigestSent(channel=channel, items=len(records), sent=message is not None))
        uow.commit()
    return sent
