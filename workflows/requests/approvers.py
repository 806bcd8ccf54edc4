"""Who may decide on a request (SPEC section 5)."""

from __future__ import annotations

from workflows.model import Request
from workflows.policy import GroupPolicy, Policy


def approvers_for(policy: Policy, requester: str, group: GroupPolicy) -> tuple[str, ...]:
    """The people asked first: the group's owners other than the requester, with the admins
    added when those owners are too few for the approvals required.

    An owner asking for themself goes to the other owners, or to the admins when they own the
    group alone. Nobody is ever asked to approve their own request.
    """
    owners = tuple(o for o in group.owners if o != requester)
    if len(owners) >= required_approvals(policy, requester, group):
        return owners
    return owners + tuple(a for a in policy.admins if a != requester and a not in owners)


def eligible_deciders(policy: Policy, requester: str, group: GroupPolicy) -> frozenset[str]:
    """Everyone entitled to decide: the group's owners and the admins, never the requester."""
    return frozenset({*group.owners, *policy.admins}) - {requester}


def required_approvals(policy: Policy, requester: str, group: GroupPolicy) -> int:
    """`approvals_required`, but never more than there are people entitled to approve."""
    return max(1, min(group.approvals_required, len(eligible_deciders(policy, requester, group))))


def may_decide(policy: Policy, actor: str, request: Request) -> bool:
    """Whether `actor` is entitled to decide on `request`."""
    group = policy.group(request.group)
    if group is None:
        return policy.is_admin(actor) and actor != request.requester
    return actor.lower() in eligible_deciders(policy, request.requester, group)
