"""Everything the emulated workspace holds: messages, ephemerals, views, files and the call log.

Tests read it to see what the bot did; the playground renders it. Nothing here speaks HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.slack.emulator.ids import slack_id
from bot.slack.emulator.users import APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_ID

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Version:
    """What a message or ephemeral said before an edit replaced it."""

    text: str
    blocks: list[Json]


@dataclass
class Message:
    """A message the bot posted in a channel or DM, as it reads now; `history` holds the past."""

    channel: str
    ts: str
    text: str
    blocks: list[Json]
    thread_ts: str | None = None
    files: list[Json] = field(default_factory=list)
    history: list[Version] = field(default_factory=list)
    deleted: bool = False

    def replace(self, text: str, blocks: list[Json]) -> None:
        """Edits in place (chat.update, `replace_original`), keeping the old version."""
        self.history.append(Version(self.text, self.blocks))
        self.text, self.blocks = text, blocks

    def to_api(self) -> Json:
        """The `message` object Slack returns and puts in interaction payloads."""
        message: Json = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": self.text,
            "ts": self.ts,
            "blocks": self.blocks,
            "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": BOT_NAME, "team_id": TEAM_ID},
        }
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.files:
            message["files"] = self.files
        if self.history:
            message["edited"] = {"user": BOT_USER_ID, "ts": self.ts}
        return message


@dataclass
class Ephemeral:
    """A message only `user` sees in `channel` (chat.postEphemeral, an ack, a response_url)."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[Json]
    history: list[Version] = field(default_factory=list)
    deleted: bool = False

    def replace(self, text: str, blocks: list[Json]) -> None:
        """Edits in place (`replace_original` on a response_url), keeping the old version."""
        self.history.append(Version(self.text, self.blocks))
        self.text, self.blocks = text, blocks


@dataclass
class View:
    """A modal or Home tab shown to `user`; `definition` is the view the bot last sent."""

    id: str
    user: str
    definition: Json
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    history: list[Json] = field(default_factory=list)
    # The inline errors of the last `response_action: errors`, as the user sees them.
    errors: dict[str, str] = field(default_factory=dict)
    closed: bool = False

    @property
    def type(self) -> str:
        """ "modal" or "home"."""
        return str(self.definition.get("type"))

    @property
    def blocks(self) -> list[Json]:
        """The view's blocks."""
        return list(self.definition.get("blocks") or [])

    @property
    def private_metadata(self) -> str:
        """What the bot stashed in the view."""
        return str(self.definition.get("private_metadata") or "")

    @property
    def callback_id(self) -> str:
        """The view's callback_id."""
        return str(self.definition.get("callback_id") or "")

    def replace(self, definition: Json, new_hash: str) -> None:
        """Takes a new definition (views.update, `response_action: update`)."""
        self.history.append(self.definition)
        self.definition, self.hash, self.errors = definition, new_hash, {}

    def to_api(self, state_values: Json | None = None) -> Json:
        """The `view` object of views.* answers and of interaction payloads."""
        view: Json = {
            "id": self.id,
            "team_id": TEAM_ID,
            "type": self.type,
            "blocks": self.blocks,
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": state_values or {}},
            "hash": self.hash,
            "clear_on_close": bool(self.definition.get("clear_on_close", False)),
            "notify_on_close": bool(self.definition.get("notify_on_close", False)),
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "app_id": APP_ID,
            "external_id": str(self.definition.get("external_id") or ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        for key in ("title", "submit", "close"):
            view[key] = self.definition.get(key)
        return view


@dataclass
class UploadedFile:
    """A file the bot uploaded; `content` is None until its bytes reach the upload URL."""

    id: str
    filename: str
    length: int
    title: str = ""
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str = ""

    def to_api(self) -> Json:
        """The `file` object of files.completeUploadExternal."""
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": len(self.content or b""),
            "user": BOT_USER_ID,
            "channels": [c for c in self.channels if c.startswith("C")],
            "ims": [c for c in self.channels if c.startswith("D")],
        }


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Web API call: what was asked, the HTTP status and the JSON answered."""

    method: str
    params: Json
    status: int
    answer: Json


@dataclass(frozen=True, slots=True)
class ResponseUrlPost:
    """One POST the bot made to a response_url, and the status it got."""

    url: str
    body: Json
    status: int


@dataclass(frozen=True, slots=True)
class ResponseTarget:
    """Where a response_url's messages go: the channel, the user, and the message clicked."""

    channel: str
    user: str
    message_ts: str | None = None
    ephemeral: bool = False


@dataclass
class Trigger:
    """A trigger_id the emulator handed the bot: whose it is, when issued, whether used."""

    user: str
    issued_at: float
    used: bool = False


@dataclass
class WorkspaceState:
    """The workspace's contents. Mutated only by the emulator; read freely."""

    channels: dict[str, str]
    messages: dict[str, list[Message]] = field(default_factory=dict)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    views: dict[str, View] = field(default_factory=dict)
    # Each user's modal stack, bottom first, and their Home tab.
    modal_stacks: dict[str, list[str]] = field(default_factory=dict)
    homes: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    response_posts: list[ResponseUrlPost] = field(default_factory=list)
    open_dms: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    # Upload URL tokens and response_url tokens, to what they point at.
    uploads: dict[str, str] = field(default_factory=dict)
    response_targets: dict[str, ResponseTarget] = field(default_factory=dict)

    @staticmethod
    def dm_id(user_id: str) -> str:
        """The id of the DM between `user_id` and the app, open or not."""
        return slack_id("D", f"dm:{user_id}")

    def dm_owner(self, channel: str) -> str | None:
        """The user whose DM with the app `channel` is, if it is an open DM."""
        return next((u for u, dm in self.open_dms.items() if dm == channel), None)

    def open_dm(self, user_id: str) -> tuple[str, bool]:
        """Opens (or finds) the user's DM with the app; says whether it was already open."""
        already = user_id in self.open_dms
        self.open_dms[user_id] = self.dm_id(user_id)
        return self.open_dms[user_id], already

    def channel_exists(self, channel: str) -> bool:
        """Whether `channel` is a public channel or an open DM."""
        return channel in self.channels or channel in self.open_dms.values()

    def messages_in(self, channel: str) -> list[Message]:
        """The channel's live messages, oldest first."""
        return [m for m in self.messages.get(channel, []) if not m.deleted]

    def message(self, channel: str, ts: str) -> Message | None:
        """The live message at `ts` in `channel`."""
        return next((m for m in self.messages_in(channel) if m.ts == ts), None)

    def add_message(self, message: Message) -> Message:
        """Stores a new message."""
        self.messages.setdefault(message.channel, []).append(message)
        return message

    def ephemerals_for(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        """The live ephemerals `user` sees, in `channel` or anywhere, oldest first."""
        return [
            e
            for e in self.ephemerals
            if e.user == user and not e.deleted and (channel is None or e.channel == channel)
        ]

    def ephemeral(self, channel: str, ts: str) -> Ephemeral | None:
        """The live ephemeral at `ts` in `channel`."""
        return next(
            (e for e in self.ephemerals if e.channel == channel and e.ts == ts and not e.deleted),
            None,
        )

    def open_view_of(self, user: str) -> View | None:
        """The modal on top of the user's stack, if one is open."""
        stack = self.modal_stacks.get(user) or []
        return self.views[stack[-1]] if stack else None

    def home_of(self, user: str) -> View | None:
        """The user's published Home tab."""
        view_id = self.homes.get(user)
        return self.views[view_id] if view_id else None

    def close_modal(self, user: str, *, all_views: bool = False) -> None:
        """Closes the top modal, or the whole stack."""
        stack = self.modal_stacks.get(user) or []
        closing = stack[:] if all_views else stack[-1:]
        for view_id in closing:
            self.views[view_id].closed = True
            stack.remove(view_id)


def with_ids(blocks: list[Json]) -> list[Json]:
    """Copies of `blocks` with the block_ids and action_ids Slack fills in when left out."""
    filled: list[Json] = []
    for index, given in enumerate(blocks):
        block = dict(given)
        block.setdefault("block_id", slack_id("", f"block{index}:{block.get('type')}")[:5])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                block[key] = _with_action_id(block[key], f"{block['block_id']}{key}")
        if isinstance(block.get("elements"), list) and block["type"] == "actions":
            block["elements"] = [
                _with_action_id(e, f"{block['block_id']}{i}")
                for i, e in enumerate(block["elements"])
            ]
        filled.append(block)
    return filled


def _with_action_id(element: Json, seed: str) -> Json:
    if "action_id" in element or element.get("type") == "image":
        return element
    return {**element, "action_id": slack_id("", seed)[:5]}


def find_element(
    blocks: list[Json], *, action_id: str | None = None, value: str | None = None
) -> tuple[str, Json] | None:
    """The first interactive element matching `action_id` and `value`, with its block_id."""
    for block in blocks:
        block_id = str(block.get("block_id") or "")
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                candidates.append(block[key])
        for element in candidates:
            if not isinstance(element, dict) or "action_id" not in element:
                continue
            if action_id is not None and element.get("action_id") != action_id:
                continue
            if value is not None and element.get("value") != value:
                continue
            return block_id, element
    return None
