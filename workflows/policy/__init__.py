"""The policy: groups, owners, caps, request timings and alert rules, as config-as-code."""

from workflows.policy.loading import PolicyError, load_policy, parse_policy
from workflows.policy.membership import check_membership
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
    "RequestsPolicy",
    "check_membership",
    "load_policy",
    "parse_policy",
]
