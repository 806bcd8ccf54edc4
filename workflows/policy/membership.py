"""Checks of a policy against the people the organisation really has."""

from __future__ import annotations

from collections.abc import Collection

from workflows.policy.model import Policy


def check_membership(policy: Policy, known: Collection[str]) -> list[str]:
    """Every admin, owner and explicitly listed member that the organisation does not have."""
    people = {email.lower() for email in known}
    errors = [
        f"admins[{i}]: {email} is not in the organisation"
        for i, email in enumerate(policy.admins)
        if email not in people
    ]
    for g, group in enumerate(policy.groups):
        errors += [
            f"groups[{g}].owners[{i}]: {email} is not in the organisation"
            for i, email in enumerate(group.owners)
            if email not in people
        ]
        errors += [
            f"groups[{g}].members[{i}]: {entry} is not in the organisation"
            for i, entry in enumerate(group.members)
            if not entry.startswith("*@") and entry not in people
        ]
    for r, rule in enumerate(policy.rules):
        errors += [
            f"rules[{r}].exclude[{i}]: {email} is not in the organisation"
            for i, email in enumerate(rule.exclude)
            if email not in people
        ]
    return errors
