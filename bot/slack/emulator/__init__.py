"""A local Slack workspace for the bot: the Web API subset it calls, and Slack's requests to it.

The playground stands on it and every Slack adapter test drives the bot through it; see
`SlackEmulator`. `python -m bot.slack.emulator` serves one for people.
"""

from bot.slack.emulator.sender import AckTimeout, Reply
from bot.slack.emulator.server import (
    DEFAULT_BOT_TOKEN,
    DEFAULT_SIGNING_SECRET,
    SlackEmulator,
    default_channels,
)
from bot.slack.emulator.state import (
    ApiCall,
    Ephemeral,
    Message,
    ResponseUrlPost,
    UploadedFile,
    Version,
    View,
)
from bot.slack.emulator.users import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, SlackUser

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_SIGNING_SECRET",
    "TEAM_ID",
    "AckTimeout",
    "ApiCall",
    "Ephemeral",
    "Message",
    "Reply",
    "ResponseUrlPost",
    "SlackEmulator",
    "SlackUser",
    "UploadedFile",
    "Version",
    "View",
    "default_channels",
]
