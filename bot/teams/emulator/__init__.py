"""A local Bot Framework for the bot: Microsoft's login (OpenID metadata, signing keys, the
token endpoint), the Bot Connector routes it calls, and Teams' activities to it, signed.

Every Teams adapter test drives the bot through it; see `TeamsEmulator`.
`python -m bot.teams.emulator` serves one for people.
"""

from bot.teams.emulator.activities import Team
from bot.teams.emulator.faults import Stall
from bot.teams.emulator.sender import BotTimeout, Reply
from bot.teams.emulator.server import (
    DEFAULT_APP_PASSWORD,
    TeamsEmulator,
    default_channels,
    find_action,
)
from bot.teams.emulator.signing import SigningKey
from bot.teams.emulator.state import (
    ADAPTIVE_CARD,
    ConnectorCall,
    Conversation,
    PostedActivity,
    TokenRequest,
)
from bot.teams.emulator.users import DEFAULT_APP_ID, TENANT_ID, TeamsUser

__all__ = [
    "ADAPTIVE_CARD",
    "DEFAULT_APP_ID",
    "DEFAULT_APP_PASSWORD",
    "TENANT_ID",
    "BotTimeout",
    "ConnectorCall",
    "Conversation",
    "PostedActivity",
    "Reply",
    "SigningKey",
    "Stall",
    "Team",
    "TeamsEmulator",
    "TeamsUser",
    "TokenRequest",
    "default_channels",
    "find_action",
]
