"""A commented starter policy built from what a backend knows: members, groups, caps, admins.

What the backend cannot know (who owns each group, the channels, the timezone) is filled with
placeholders that pass `policy check` and are marked `TODO`, so the file works as written and
says what to edit. Strings are written as JSON, which is valid YAML whatever they contain.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from workflows.admin import RemoteGroup, RemoteMember

_KNOWN_TIERS = ("standard", "premium")
_NO_CAP_USD = Decimal(100)
"""The default cap where the backend has none for anyone in a group."""
_MAX_CAP_FACTOR = 4


@dataclass
class _Group:
    name: str
    members: list[RemoteMember]
    comment: str
    anthropic_group: RemoteGroup | None = None
    patterns: list[str] = field(default_factory=list)


def starter_policy(
    members: Sequence[RemoteMember],
    groups: Sequence[RemoteGroup] | None,
    *,
    backend: str,
    today: date,
) -> str:
    """The starter policy file for this organisation, as YAML text with comments.

    `groups` are the backend's own groups (None where it has none): each becomes a policy
    group that takes in its members at every sync, and a last group gathers everyone else.
    """
    active = sorted((m for m in members if m.active), key=lambda m: m.email)
    if not active:
        raise ValueError(f"the {backend} backend has no members to write a policy for")
    admins = [m.email for m in active if m.admin]
    lines = [
        f"# capdesk policy: a starter written by `capdesk policy init` from the {backend}",
        f"# backend on {today.isoformat()}, for {len(active)} members. Edit what is marked TODO,",
        "# then check it against the organisation: capdesk policy check capdesk.yaml",
        "org:",
        '  timezone: "UTC"                # TODO: your timezone, such as Europe/Berlin',
        '  business_hours: "08:00-20:00"  # for the after-hours rule and the forecast',
        '  currency: "USD"',
        "",
    ]
    if admins:
        lines.append(f"# The organisation's admins in {backend}: they approve anything and get")
        lines.append("# escalations and failed changes.")
    else:
        admins = [active[0].email]
        lines.append(f"# TODO: {backend} does not say who its admins are; this is a placeholder.")
    lines += ["admins:", *(f"  - {_text(a)}" for a in admins)]
    lines += [
        "# TODO: the admins' Slack channel, for digests and manual tasks (a channel id):",
        '# admin_channel: {slack: "C0123ADMINS"}',
        "",
        f"seat_tiers: [{', '.join(_text(t) for t in _tiers(active))}]",
        "",
        "groups:",
    ]
    for group in _groups(active, groups):
        lines += _group_lines(group, owner=admins[0])
    lines += [
        "requests:",
        "  reminder_after: 4h     # nudge the owners",
        "  escalate_after: 24h    # bring in the admins",
        "  expire_after: 72h      # undecided requests expire",
        "  max_duration_days: 90  # the longest temporary grant",
        "",
        "rules:",
        "  - {id: cap-near, kind: cap_near, threshold_pct: 85, notify: [user, owners],"
        " cooldown: 24h}",
        "  - {id: after-hours, kind: after_hours_spike, min_spend_usd_per_hour: 20,"
        " notify: [admins], cooldown: 1h}",
        "  - {id: idle-seat, kind: idle_seat, warn_after_days: 14, reclaim_after_days: 30,"
        " notify: [user, admins]}",
        "  - {id: forecast, kind: forecast_overrun, notify: [owners, admins]}",
        "",
        'digest: {schedule: "0 9 * * MON-FRI"}',
    ]
    return "\n".join(lines) + "\n"


def _groups(active: Sequence[RemoteMember], groups: Sequence[RemoteGroup] | None) -> list[_Group]:
    if groups is None:
        return [
            _Group(
                "everyone",
                list(active),
                "Everyone, by the address domains the organisation has today.",
                patterns=_domains(active),
            )
        ]
    by_email = {m.email: m for m in active}
    taken: set[str] = set()
    found: list[_Group] = []
    for remote in groups:
        people = [by_email[e] for e in remote.members if e in by_email]
        if not people:
            continue
        found.append(
            _Group(
                _unique(_slug(remote.name), taken),
                people,
                f"The group {json.dumps(remote.name)} ({len(people)} members today); its "
                "members are read at every sync.",
                anthropic_group=remote,
            )
        )
    drawn = {m.email for g in found for m in g.members}
    rest = [m for m in active if m.email not in drawn]
    if rest or not found:
        # A pattern loses to a backend group, so it takes in exactly those in none of them.
        found.append(
            _Group(
                _unique("others", taken),
                rest or list(active),
                "Everyone in none of the groups above.",
                patterns=_domains(rest or active),
            )
        )
    return found


def _group_lines(group: _Group, *, owner: str) -> list[str]:
    default, highest = _caps(group.members)
    ceiling = max(highest, default * _MAX_CAP_FACTOR)
    lines = [f"  # {group.comment}", f"  - name: {group.name}"]
    if group.anthropic_group is not None:
        name = json.dumps(group.anthropic_group.name)
        lines.append(f"    anthropic_group: {_text(group.anthropic_group.id)}  # {name}")
    lines += [
        f"    owners: [{_text(owner)}]  # TODO: the people who approve this group's requests",
    ]
    if group.patterns:
        lines.append(f"    members: [{', '.join(_text(p) for p in group.patterns)}]")
    lines += [
        f"    default_cap_usd: {_usd(default)}  # the monthly cap most of them have today",
        f"    max_cap_usd: {_usd(ceiling)}  # TODO: no request may go above this",
        "    auto_approve_under_usd: 0  # increases up to this need no person",
        "    # TODO: the group's Slack channel, if its approvals should go there:",
        '    # channel: {slack: "C0123GROUP"}',
        "",
    ]
    return lines


def _caps(members: Iterable[RemoteMember]) -> tuple[Decimal, Decimal]:
    """The most common monthly cap of the members, and the highest, in dollars."""
    caps = [m.monthly_cap_cents for m in members if m.monthly_cap_cents is not None]
    if not caps:
        return _NO_CAP_USD, _NO_CAP_USD
    common = Counter(caps).most_common(1)[0][0]
    return Decimal(common) / 100, Decimal(max(caps)) / 100


def _tiers(members: Iterable[RemoteMember]) -> list[str]:
    seen = {m.tier for m in members if m.tier}
    return [*_KNOWN_TIERS, *sorted(seen - set(_KNOWN_TIERS))]


def _domains(members: Iterable[RemoteMember]) -> list[str]:
    return sorted({f"*@{m.email.rsplit('@', 1)[1].lower()}" for m in members})


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")[:56]
    return slug if slug and slug[0].isalnum() else f"group-{slug}".strip("-")


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _usd(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')).normalize():f}"


def _text(value: str) -> str:
    return json.dumps(value)
