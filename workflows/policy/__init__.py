"""The policy: groups, owners, caps, request timings and alert rules, as config-as-code."""

from workflows.policy.loading import (
    PolicyError,
    PolicyFile,
    Problem,
    load_policy,
    open_policy,
    parse_policy,
    read_policy,
)
from workflows.policy.membership import check_membership, ungrouped_members
from workflows.policy.model import (
    AlertRule,
    ChannelRef,
    GroupPolicy,
    Policy,
    RequestsPolicy,
)

__all__ = [
    "AlertRule",
    "ChannelRef",
    "GroupPolicy",
    "Policy",
    "PolicyError",
    "PolicyFile",
    "Problem",
    "RequestsPolicy",
    "check_membership",
    "load_policy",
    "open_policy",
    "parse_policy",
    "read_policy",
    "ungrouped_members",
]
