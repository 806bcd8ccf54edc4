"""The activities Teams sends a bot, built as Teams builds them.

Shapes follow the Teams docs' samples (conversation events, Universal Actions): `channelId`
`msteams`, `serviceUrl` (here the emulator's), `from` with the user's Teams id and
`aadObjectId`, `recipient` the bot (`28:<app id>`), `conversation` with `conversationType` and
`tenantId`, and the tenant again in `channelData.tenant.id`. A message in a channel mentions
the bot (`<at>capdesk</at>` and a `mention` entity); an `Action.Execute` click is an `invoke`
named `adaptiveCard/action` whose `value.action` has the `verb` and the button's `data` merged
with the card's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.teams.emulator.state import Conversation, Json
from bot.teams.emulator.users import BOT_NAME, TeamsUser

CHANNEL_ID = "msteams"
LOCALE = "en-US"


@dataclass(frozen=True, slots=True)
class Team:
    """The team the bot can be installed in: its id (that of its General channel), name and
    Azure AD group."""

    id: str
    name: str
    aad_group_id: str

    def to_channel_data(self) -> Json:
        """`channelData.team`."""
        return {"id": self.id, "name": self.name, "aadGroupId": self.aad_group_id}


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every activity of one send shares."""

    id: str
    at: datetime
    tz: str
    service_url: str
    bot_id: str

    def base(self, kind: str, user: TeamsUser, conversation: Conversation) -> Json:
        """The common fields of an activity of type `kind` from `user` in `conversation`."""
        local = self.at.astimezone(ZoneInfo(self.tz))
        channel_data: Json = {"tenant": {"id": conversation.tenant_id}}
        if conversation.type == "channel" and conversation.team_id:
            channel_data["team"] = {"id": conversation.team_id}
            channel_data["channel"] = {"id": conversation.id}
        return {
            "type": kind,
            "id": self.id,
            "timestamp": _iso(self.at),
            "localTimestamp": local.isoformat(timespec="milliseconds"),
            "localTimezone": self.tz,
            "serviceUrl": self.service_url,
            "channelId": CHANNEL_ID,
            "from": user.account(),
            "conversation": conversation.to_activity(),
            "recipient": {"id": self.bot_id, "name": BOT_NAME},
            "entities": [
                {"type": "clientInfo", "locale": LOCALE, "platform": "Web", "timezone": self.tz}
            ],
            "channelData": channel_data,
            "locale": LOCALE,
        }


def message(envelope: Envelope, user: TeamsUser, conversation: Conversation, text: str) -> Json:
    """`user` writes `text` to the bot (in a channel, mentioning it)."""
    activity = envelope.base("message", user, conversation)
    activity["textFormat"] = "plain"
    if conversation.type == "channel":
        mention = f"<at>{BOT_NAME}</at>"
        activity["text"] = f"{mention} {text}"
        activity["entities"].append(
            {
                "type": "mention",
                "text": mention,
                "mentioned": {"id": envelope.bot_id, "name": BOT_NAME},
            }
        )
    else:
        activity["text"] = text
    return activity


def card_action(
    envelope: Envelope,
    user: TeamsUser,
    conversation: Conversation,
    *,
    action: Json,
    inputs: dict[str, Any],
    reply_to_id: str | None,
) -> Json:
    """`user` clicks the `Action.Execute` `action` of a card (its inputs filled with `inputs`)."""
    activity = envelope.base("invoke", user, conversation)
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {
            "type": "Action.Execute",
            **{k: action[k] for k in ("id", "title", "verb") if k in action},
            "data": {**(action.get("data") or {}), **inputs},
        },
        "trigger": "manual",
    }
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def installation_update(
    envelope: Envelope,
    user: TeamsUser,
    conversation: Conversation,
    *,
    action: str,
    team: Team | None,
) -> Json:
    """`user` adds (`action="add"`) or removes (`"remove"`) the app, personally or in `team`."""
    activity = envelope.base("installationUpdate", user, conversation)
    activity["action"] = action
    return _in_team(activity, team, source={"name": "message"})


def members_added(
    envelope: Envelope,
    user: TeamsUser,
    conversation: Conversation,
    *,
    added: list[Json],
    team: Team | None,
) -> Json:
    """`conversationUpdate`: `added` (accounts: the bot's, people's) joined the conversation."""
    activity = envelope.base("conversationUpdate", user, conversation)
    activity["membersAdded"] = added
    return _in_team(activity, team, eventType="teamMemberAdded")


def _in_team(activity: Json, team: Team | None, **channel_data: Any) -> Json:
    """Adds what Teams says of the team, and the channel chosen for the app, when in a team."""
    if team is not None:
        activity["channelData"].update(
            team=team.to_channel_data(),
            settings={"selectedChannel": {"id": activity["conversation"]["id"]}},
            **channel_data,
        )
    return activity


def _iso(at: datetime) -> str:
    return at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{at.microsecond // 1000:03d}Z"
    )
