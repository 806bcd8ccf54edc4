"""The channels an emulated workspace or team has: those the built-in sandbox policy names."""

from __future__ import annotations

from typing import Literal

from bot.connectors.sandbox import SandboxOrg, builtin_policy


def policy_channels(org: SandboxOrg, platform: Literal["slack", "teams"]) -> dict[str, str]:
    """The admin channel and the group channels of the built-in policy on `platform`: name by
    channel id."""
    policy = builtin_policy(org)
    refs = [("capdesk-admins", policy.admin_channel)]
    refs += [(group.name, group.channel) for group in policy.groups]
    return {
        getattr(ref, platform): name
        for name, ref in refs
        if ref is not None and getattr(ref, platform)
    }
