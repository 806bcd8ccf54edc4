"""Checking the policy's `anthropic_group` keys against the groups the backend really has."""

from __future__ import annotations

from collections.abc import Collection

from workflows.admin import RemoteGroup
from workflows.policy.loading import Problem
from workflows.policy.model import Policy


def check_backend_groups(
    policy: Policy, groups: Collection[RemoteGroup] | None, *, backend: str
) -> list[Problem]:
    """Every `anthropic_group` that names no group of the backend, or a name two groups share.

    `groups` is None for a backend without groups of its own.
    """
    errors: list[Problem] = []
    for index, group in enumerate(policy.groups):
        wanted = group.anthropic_group
        if wanted is None:
            continue
        where = f"groups[{index}].anthropic_group"
        if groups is None:
            errors.append(Problem(where, f"the {backend} backend has no groups of its own"))
            continue
        key = wanted.casefold()
        if any(g.id.casefold() == key for g in groups):
            continue
        named = sorted((g for g in groups if g.name.casefold() == key), key=lambda g: g.id)
        if len(named) > 1:
            ids = ", ".join(g.id for g in named)
            errors.append(
                Problem(
                    where, f"{len(named)} groups are named {wanted!r}; name one by its id ({ids})"
                )
            )
        elif not named:
            known = ", ".join(sorted({g.name for g in groups})) or "none"
            errors.append(
                Problem(where, f"the organisation has no group {wanted!r} (it has: {known})")
            )
    return errors
