"""`policy check`'s look-up of the backend's own groups (Claude Enterprise groups)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from workflows.admin import RemoteGroup
from workflows.policy import Policy
from workflows.policy.backend_groups import check_backend_groups


@runtime_checkable
class BackendGroupsContext(Protocol):
    """What the composition root offers for the check, as the click context object."""

    def backend_groups(self) -> tuple[str, list[RemoteGroup] | None]:
        """The backend's name and its groups; None for a backend without groups."""
        ...


def group_errors(context: object, policy: Policy) -> list[str]:
    """The policy's `anthropic_group` keys that name no group the backend has."""
    if not isinstance(context, BackendGroupsContext) or not any(
        g.anthropic_group for g in policy.groups
    ):
        return []
    backend, groups = context.backend_groups()
    return check_backend_groups(policy, groups, backend=backend)
