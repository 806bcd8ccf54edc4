"""What a person sees in the playground, as JSON: their conversations, Home tab and open modal.

Read from the emulator's workspace and the policy; nothing here changes either. Who sees which
channel follows the policy: admins see the admin channel, everyone their group's channel, and
owners the channels of the groups they own (approval cards go there).
"""

from __future__ import annotations

from typing import Any, Literal

from bot.slack.emulator import Ephemeral, Message, SlackEmulator, SlackUser, View
from workflows.policy import Policy

Json = dict[str, Any]
Role = Literal["admin", "owner", "member"]

ADMIN_CHANNEL_NAME = "capdesk-admins"
_ROLE_ORDER: dict[Role, int] = {"admin": 0, "owner": 1, "member": 2}


def channel_names(policy: Policy) -> dict[str, str]:
    """The public channels the policy posts to, by Slack id, with a readable name."""
    channels: dict[str, str] = {}
    if policy.admin_channel is not None and policy.admin_channel.slack:
        channels[policy.admin_channel.slack] = ADMIN_CHANNEL_NAME
    for group in policy.groups:
        if group.channel is not None and group.channel.slack:
            channels[group.channel.slack] = group.name
    return channels


def role_of(policy: Policy, email: str) -> Role:
    """What the person may do in capdesk: decide for everyone, for their groups, or ask."""
    if policy.is_admin(email):
        return "admin"
    return "owner" if policy.owns(email) else "member"


def label_of(policy: Policy, email: str) -> str:
    """What the person is, for the picker: `employee`, `owner of software`, `admin`."""
    parts = ["admin"] if policy.is_admin(email) else []
    owned = [g.name for g in policy.owns(email)]
    if owned:
        parts.append("owner of " + ", ".join(owned))
    return ", ".join(parts) or "employee"


def person(policy: Policy, user: SlackUser) -> Json:
    """One entry of the people picker."""
    group = policy.group_of(user.email)
    return {
        "email": user.email,
        "name": user.real_name,
        "slack_id": user.id,
        "group": group.name if group else None,
        "role": role_of(policy, user.email),
        "label": label_of(policy, user.email),
    }


def people(emulator: SlackEmulator, policy: Policy) -> list[Json]:
    """Everyone in the workspace but the bot, by group, then admins and owners first."""
    entries = [person(policy, u) for u in emulator.directory.members() if not u.is_bot]
    return sorted(
        entries, key=lambda p: (p["group"] or "~", _ROLE_ORDER[p["role"]], p["name"].lower())
    )


def storyteller(entries: list[Json], policy: Policy, preferred: str | None) -> str | None:
    """Whom the page starts on: `preferred` if present, else an employee whose group has an
    owner other than them, so asking and approving can be shown at once."""
    emails = {entry["email"] for entry in entries}
    if preferred is not None and preferred.lower() in emails:
        return preferred.lower()
    for entry in entries:
        group = policy.group(entry["group"]) if entry["group"] else None
        owners = group.owners if group is not None and entry["role"] == "member" else []
        if any(owner in emails and owner != entry["email"] for owner in owners):
            return str(entry["email"])
    return next(iter(sorted(emails)), None)


def visible_channels(policy: Policy, email: str) -> list[str]:
    """The public channels the person reads, admin channel first."""
    seen: list[str] = []
    if policy.is_admin(email) and policy.admin_channel and policy.admin_channel.slack:
        seen.append(policy.admin_channel.slack)
    own = policy.group_of(email)
    for group in [*([own] if own else []), *policy.owns(email)]:
        if group.channel and group.channel.slack and group.channel.slack not in seen:
            seen.append(group.channel.slack)
    return seen


def person_state(emulator: SlackEmulator, policy: Policy, user: SlackUser) -> Json:
    """Everything the person sees now."""
    dm = emulator.dm_of(user.id)
    admin_channel = policy.admin_channel.slack if policy.admin_channel else None
    conversations = [_conversation(emulator, user, dm, kind="dm", name="capdesk")]
    conversations += [
        _conversation(
            emulator,
            user,
            channel,
            kind="channel",
            name=emulator.state.channels[channel],
            admin=channel == admin_channel,
        )
        for channel in visible_channels(policy, user.email)
        if channel in emulator.state.channels
    ]
    home = emulator.home_of(user.id)
    modal = emulator.open_view_of(user.id)
    return {
        "person": person(policy, user),
        "conversations": conversations,
        "home": None if home is None else {"id": home.id, "blocks": home.blocks},
        "modal": None if modal is None else _modal(modal),
    }


def _conversation(
    emulator: SlackEmulator,
    user: SlackUser,
    channel: str,
    *,
    kind: str,
    name: str,
    admin: bool = False,
) -> Json:
    items = [_message(m) for m in emulator.messages_in(channel)]
    items += [_ephemeral(e) for e in emulator.ephemerals_for(user.id, channel)]
    items.sort(key=lambda item: _ts_key(item["ts"]))
    return {"id": channel, "kind": kind, "name": name, "admin": admin, "messages": items}


def _message(message: Message) -> Json:
    return {
        "kind": "message",
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "blocks": message.blocks,
        "edited": bool(message.history),
        "files": [_file(f) for f in message.files],
    }


def _ephemeral(ephemeral: Ephemeral) -> Json:
    return {
        "kind": "ephemeral",
        "channel": ephemeral.channel,
        "ts": ephemeral.ts,
        "text": ephemeral.text,
        "blocks": ephemeral.blocks,
        "edited": bool(ephemeral.history),
        "files": [],
    }


def _file(file: Json) -> Json:
    file_id = str(file.get("id") or "")
    return {
        "id": file_id,
        "name": str(file.get("name") or ""),
        "title": str(file.get("title") or ""),
        "url": f"/playground/api/files/{file_id}",
    }


def _modal(view: View) -> Json:
    return {
        "id": view.id,
        "callback_id": view.callback_id,
        "title": _plain(view.definition.get("title")),
        "submit": _plain(view.definition.get("submit")),
        "close": _plain(view.definition.get("close")) or "Close",
        "blocks": view.blocks,
        "errors": dict(view.errors),
    }


def _plain(text: object) -> str:
    return str(text.get("text") or "") if isinstance(text, dict) else ""


def _ts_key(ts: str) -> tuple[int, ...]:
    # "seconds.micros": numeric parts, so "10.000100" sorts after "9.000900".
    return tuple(int(part) for part in ts.split("."))
