"""Checks of a policy against the people the organisation really has."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from workflows.policy.loading import Problem
from workflows.policy.model import Policy


def check_membership(
    policy: Policy, known: Collection[str], *, organisation: str = "the organisation"
) -> list[Problem]:
    """Every admin, owner and explicitly listed member that the organisation does not have.

    `organisation` names it in the messages ("the sandbox org").
    """
    people = {email.lower() for email in known}
    named = [(f"admins[{i}]", email) for i, email in enumerate(policy.admins)]
    for g, group in enumerate(policy.groups):
        named += [(f"groups[{g}].owners[{i}]", email) for i, email in enumerate(group.owners)]
        named += [
            (f"groups[{g}].members[{i}]", entry)
            for i, entry in enumerate(group.members)
            if not entry.startswith("*@")
        ]
    for r, rule in enumerate(policy.rules):
        named += [(f"rules[{r}].exclude[{i}]", email) for i, email in enumerate(rule.exclude)]
    return [
        Problem(path, f"{email} is not in {organisation}")
        for path, email in named
        if email not in people
    ]


def ungrouped_members(
    policy: Policy,
    members: Collection[str],
    backend_groups: Mapping[str, Collection[str]] | None = None,
) -> list[Problem]:
    """Each member whom no group lists, draws from a backend group or matches: capdesk refuses
    their requests. `backend_groups` maps an email to the backend groups the person is in."""
    within = backend_groups or {}
    return [
        Problem("", f"{email} belongs to no group, so their requests would be refused")
        for email in sorted({m.lower() for m in members})
        if policy.group_of(email, within.get(email, ())) is None
    ]
