"""The built-in policy for the sandbox org, used when no policy file is given (SPEC section 2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.connectors.sandbox.connector import SANDBOX_TIERS
from bot.connectors.sandbox.org import DEFAULT_CAP_CENTS, GROUPS, SandboxOrg
from bot.connectors.sandbox.usage import ORG_SETTINGS
from workflows.policy import Policy

_MAX_CAP_USD = {"software": 600}
_DEFAULT_MAX_CAP_USD = 400
_CHANNELS = {"embedded": "C0EMBEDDED"}
_COST_CENTERS = {
    "electronics": "ENG-HW",
    "embedded": "ENG-HW",
    "software": "ENG-SW",
    "systems": "ENG-SYS",
    "project-management": "PMO",
}
_PRICES_USD = {"standard": 25, "premium": 125}

_RULES: list[dict[str, Any]] = [
    {
        "id": "cap-near",
        "kind": "cap_near",
        "threshold_pct": 85,
        "notify": ["user", "owners"],
        "cooldown": "24h",
    },
    {
        "id": "after-hours",
        "kind": "after_hours_spike",
        "min_commands_per_hour": 50,
        "notify": ["admins"],
        "cooldown": "1h",
        "mode": "immediate",
    },
    {
        "id": "idle-seat",
        "kind": "idle_seat",
        "warn_after_days": 14,
        "reclaim_after_days": 30,
        "notify": ["user", "admins"],
    },
    {
        "id": "group-budget",
        "kind": "group_budget",
        "threshold_pct": 90,
        "notify": ["owners", "admins"],
        "cooldown": "48h",
    },
    {"id": "forecast", "kind": "forecast_overrun", "notify": ["owners", "admins"]},
]


def builtin_policy(org: SandboxOrg) -> Policy:
    """Groups, owners, caps, budgets and the alert rules of SPEC section 4, for `org`."""
    return Policy.model_validate(
        {
            "org": ORG_SETTINGS,
            "admins": list(org.admins),
            "admin_channel": {"slack": "C0ADMINS", "teams": "19:admins@thread.tacv2"},
            "seat_tiers": _tiers(org),
            "groups": [_group(org, name) for name in GROUPS],
            "requests": {
                "reminder_after": "4h",
                "escalate_after": "24h",
                "expire_after": "72h",
                "max_duration_days": 90,
            },
            "rules": _RULES,
            "digest": {"schedule": "0 9 * * MON-FRI"},
        }
    )


def _tiers(org: SandboxOrg) -> dict[str, Any]:
    """Every tier priced; premium with as many seats as the org hands out today, so the pool
    is full and an upgrade's card shows who to reclaim one from."""
    tiers: dict[str, Any] = {tier: {"monthly_usd": _PRICES_USD[tier]} for tier in SANDBOX_TIERS}
    tiers["premium"]["seats"] = sum(1 for p in org.people if p.tier == "premium")
    return tiers


def _group(org: SandboxOrg, name: str) -> dict[str, Any]:
    members = org.members_of(name)
    group: dict[str, Any] = {
        "name": name,
        "owners": list(org.owners_of(name)),
        "members": [p.email for p in members],
        "default_cap_usd": _usd(DEFAULT_CAP_CENTS[name]),
        "max_cap_usd": _MAX_CAP_USD.get(name, _DEFAULT_MAX_CAP_USD),
        "monthly_budget_usd": _usd(org.budget_cents(name)),
        "auto_approve_under_usd": 25,
        "approvals_required": 1,
        "cost_center": _COST_CENTERS[name],
    }
    if name in _CHANNELS:
        group["channel"] = {"slack": _CHANNELS[name]}
    return group


def _usd(cents: int) -> Decimal:
    return Decimal(cents) / 100
