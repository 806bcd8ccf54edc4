"""The `sandbox` admin connector: a deterministic synthetic organisation that really changes."""

from bot.connectors.sandbox.connector import SANDBOX_TIERS, SandboxConnector
from bot.connectors.sandbox.org import PLAYGROUND_REQUESTER, SandboxOrg, generate_org
from bot.connectors.sandbox.policy import builtin_policy
from bot.connectors.sandbox.state import MemorySandboxState, SandboxState, SeatOverride
from bot.connectors.sandbox.usage import ZONE as SANDBOX_ZONE

__all__ = [
    "PLAYGROUND_REQUESTER",
    "SANDBOX_TIERS",
    "SANDBOX_ZONE",
    "MemorySandboxState",
    "SandboxConnector",
    "SandboxOrg",
    "SandboxState",
    "SeatOverride",
    "builtin_policy",
    "generate_org",
]
