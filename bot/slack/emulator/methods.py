"""The Web API methods the bot calls, working on the workspace state: no HTTP here.

Answers and error codes follow docs.slack.dev's method reference: `channel_not_found`,
`user_not_found` (users.info, conversations.open), `users_not_found` (users.lookupByEmail),
`message_not_found`, `no_text`, `msg_too_long`, `invalid_blocks` (messages) and
`invalid_arguments` (views) with `response_metadata.messages`, `invalid_trigger_id`,
`expired_trigger_id` (older than 3 s) and `exchanged_trigger_id` (already used),
`hash_conflict`, `not_found` (views).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.slack.emulator import limits
from bot.slack.emulator.ids import Stamps
from bot.slack.emulator.state import (
    Ephemeral,
    Json,
    Message,
    UploadedFile,
    View,
    WorkspaceState,
    with_ids,
)
from bot.slack.emulator.users import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    Directory,
)

# How long a trigger_id can open a modal (docs.slack.dev, "Modals": "expires in 3 seconds").
TRIGGER_TTL_SECONDS = 3.0

# Parameters that carry JSON; form-encoded callers send them as strings.
JSON_PARAMS = ("blocks", "attachments", "view", "files")


class MethodError(Exception):
    """A Slack error answer: `{"ok": false, "error": ..., "response_metadata": ...}`."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []

    def to_api(self) -> Json:
        """The JSON body Slack sends for this error."""
        answer: Json = {"ok": False, "error": self.error}
        if self.messages:
            answer["response_metadata"] = {"messages": self.messages}
        return answer


class WebApiMethods:
    """One handler per supported method, each taking decoded parameters."""

    def __init__(
        self,
        state: WorkspaceState,
        directory: Directory,
        stamps: Stamps,
        *,
        now: Callable[[], datetime],
        upload_url: Callable[[str], str],
    ) -> None:
        self._state = state
        self._directory = directory
        self._stamps = stamps
        self._now = now
        self._upload_url = upload_url
        self._handlers: dict[str, Callable[[Json], Json]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.update": self.chat_update,
            "conversations.open": self.conversations_open,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
        }

    def call(self, method: str, params: Json) -> Json:
        """Runs `method`; the answer without `ok`. Raises `MethodError` for Slack's errors."""
        handler = self._handlers.get(method)
        if handler is None:
            raise MethodError("unknown_method")
        return handler(decode_json_params(params))

    def auth_test(self, params: Json) -> Json:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Capdesk Sandbox",
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, params: Json) -> Json:
        channel = self._writable_channel(_required(params, "channel"))
        text, blocks = _content(params)
        thread_ts = params.get("thread_ts")
        message = self.add_message(
            channel, text, blocks or [], thread_ts=str(thread_ts) if thread_ts else None
        )
        return {"channel": channel, "ts": message.ts, "message": message.to_api()}

    def add_message(
        self,
        channel: str,
        text: str,
        blocks: list[Json],
        *,
        thread_ts: str | None = None,
        files: list[Json] | None = None,
    ) -> Message:
        """Posts a message from the bot into `channel`."""
        message = Message(
            channel=channel,
            ts=self._stamps.ts(self._now().timestamp()),
            text=text,
            blocks=with_ids(blocks),
            thread_ts=thread_ts,
            files=files or [],
        )
        return self._state.add_message(message)

    def chat_post_ephemeral(self, params: Json) -> Json:
        channel = self._writable_channel(_required(params, "channel"))
        user = self._directory.by_id(_required(params, "user"))
        if user is None:
            raise MethodError("user_not_found")
        owner = self._state.dm_owner(channel)
        if owner is not None and owner != user.id:
            raise MethodError("user_not_in_channel")
        text, blocks = _content(params)
        return {"message_ts": self.add_ephemeral(channel, user.id, text, blocks or [])}

    def add_ephemeral(self, channel: str, user: str, text: str, blocks: list[Json]) -> str:
        """Shows `user` an ephemeral message in `channel`; its ts."""
        ts = self._stamps.ts(self._now().timestamp())
        self._state.ephemerals.append(Ephemeral(channel, user, ts, text, with_ids(blocks)))
        return ts

    def chat_update(self, params: Json) -> Json:
        channel = _required(params, "channel")
        if not self._state.channel_exists(channel):
            raise MethodError("channel_not_found")
        message = self._state.message(channel, _required(params, "ts"))
        if message is None:
            raise MethodError("message_not_found")
        text, blocks = _content(params, keep=(message.text, message.blocks))
        message.replace(text, with_ids(blocks) if blocks is not None else message.blocks)
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(),
        }

    def conversations_open(self, params: Json) -> Json:
        if params.get("channel"):
            channel = str(params["channel"])
            if not self._state.channel_exists(channel):
                raise MethodError("channel_not_found")
            return {"channel": {"id": channel}}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise MethodError("users_list_not_supplied")
        if len(users) > 1:
            raise MethodError(
                "invalid_arguments", ["[ERROR] the emulator opens one-to-one DMs only"]
            )
        user = self._directory.by_id(users[0])
        if user is None or user.is_bot:
            raise MethodError("user_not_found")
        dm, already = self._state.open_dm(user.id)
        answer: Json = {"channel": {"id": dm}}
        if already:
            answer |= {"no_op": True, "already_open": True}
        return answer

    def views_open(self, params: Json) -> Json:
        trigger_id = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        view = _view_param(params, "modal")
        trigger = self._state.triggers.get(trigger_id)
        if trigger is None:
            raise MethodError("invalid_trigger_id")
        if trigger.used:
            raise MethodError("exchanged_trigger_id")
        if self._now().timestamp() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise MethodError("expired_trigger_id")
        trigger.used = True
        self._state.close_modal(trigger.user, all_views=True)
        opened = self.new_view(trigger.user, view)
        self._state.modal_stacks.setdefault(trigger.user, []).append(opened.id)
        return {"view": opened.to_api()}

    def new_view(self, user: str, definition: Json, *, previous: View | None = None) -> View:
        """Stores a fresh view for `user`, stacked on `previous` if given."""
        view_id = self._stamps.next_id("V")
        view = View(
            id=view_id,
            user=user,
            definition=_view_with_ids(definition),
            hash=self._view_hash(),
            root_view_id=previous.root_view_id if previous else view_id,
            previous_view_id=previous.id if previous else None,
        )
        self._state.views[view_id] = view
        return view

    def views_update(self, params: Json) -> Json:
        view = self._existing_view(params)
        definition = _view_param(params, view.type)
        if params.get("hash") and params["hash"] != view.hash:
            raise MethodError("hash_conflict")
        self.update_view(view, definition)
        return {"view": view.to_api()}

    def update_view(self, view: View, definition: Json) -> None:
        """Replaces what `view` shows, with a new hash."""
        view.replace(_view_with_ids(definition), self._view_hash())

    def views_publish(self, params: Json) -> Json:
        user = self._directory.by_id(_required(params, "user_id"))
        if user is None or user.is_bot:
            raise MethodError("user_not_found")
        definition = _view_param(params, "home")
        home = self._state.home_of(user.id)
        if home is None:
            home = self.new_view(user.id, definition)
            self._state.homes[user.id] = home.id
        elif params.get("hash") and params["hash"] != home.hash:
            raise MethodError("hash_conflict")
        else:
            self.update_view(home, definition)
        return {"view": home.to_api()}

    def users_info(self, params: Json) -> Json:
        user = self._directory.by_id(_required(params, "user"))
        if user is None:
            raise MethodError("user_not_found")
        return {"user": user.to_api(self._now())}

    def users_lookup_by_email(self, params: Json) -> Json:
        user = self._directory.by_email(_required(params, "email"))
        if user is None:
            raise MethodError("users_not_found")
        return {"user": user.to_api(self._now())}

    def files_get_upload_url_external(self, params: Json) -> Json:
        filename = _required(params, "filename")
        try:
            length = int(_required(params, "length"))
        except ValueError:
            raise MethodError(
                "invalid_arguments", ["[ERROR] length must be an integer [json-pointer:/length]"]
            ) from None
        file = UploadedFile(id=self._stamps.next_id("F"), filename=filename, length=length)
        self._state.files[file.id] = file
        token = self._stamps.token("upload")
        self._state.uploads[token] = file.id
        return {"upload_url": self._upload_url(token), "file_id": file.id}

    def files_complete_upload_external(self, params: Json) -> Json:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise MethodError("invalid_arguments", ["[ERROR] files is required"])
        files: list[UploadedFile] = []
        for entry in entries:
            file = self._state.files.get(str(entry.get("id")) if isinstance(entry, dict) else "")
            if file is None:
                raise MethodError("file_not_found")
            if file.content is None:
                raise MethodError(
                    "invalid_arguments", [f"[ERROR] file {file.id} was never uploaded"]
                )
            file.title = str(entry.get("title") or file.filename)
            files.append(file)
        targets = [str(params["channel_id"])] if params.get("channel_id") else []
        targets += [c for c in str(params.get("channels") or "").split(",") if c]
        comment = str(params.get("initial_comment") or "")
        for target in targets:
            channel = self._writable_channel(target)
            for file in files:
                file.channels.append(channel)
                file.initial_comment = comment
            thread_ts = params.get("thread_ts")
            self.add_message(
                channel,
                comment,
                [],
                thread_ts=str(thread_ts) if thread_ts else None,
                files=[f.to_api() for f in files],
            )
        return {"files": [f.to_api() for f in files]}

    def _writable_channel(self, channel: str) -> str:
        # A user id as channel means "the DM with that user", which Slack opens on demand.
        if channel.startswith(("U", "W")):
            user = self._directory.by_id(channel)
            if user is None or user.is_bot:
                raise MethodError("channel_not_found")
            return self._state.open_dm(user.id)[0]
        if not self._state.channel_exists(channel):
            raise MethodError("channel_not_found")
        return channel

    def _existing_view(self, params: Json) -> View:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and not external_id:
            raise MethodError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
        for view in self._state.views.values():
            matches = (
                view.id == view_id if view_id else view.definition.get("external_id") == external_id
            )
            if matches and not view.closed:
                return view
        raise MethodError("not_found")

    def _view_hash(self) -> str:
        return f"{int(self._now().timestamp())}.{self._stamps.token('hash')[:8]}"


def decode_json_params(params: Json) -> Json:
    """Parameters with form-encoded JSON strings (`blocks`, `view`, ...) decoded."""
    decoded = dict(params)
    for key in JSON_PARAMS:
        value = decoded.get(key)
        if isinstance(value, str):
            try:
                decoded[key] = json.loads(value)
            except ValueError:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise MethodError(error, [f"[ERROR] {key} is not valid JSON"]) from None
    return decoded


def _required(params: Json, key: str) -> str:
    value = params.get(key)
    if value is None or value == "":
        raise MethodError("invalid_arguments", [f"[ERROR] missing required field: {key}"])
    return str(value)


def _content(
    params: Json, *, keep: tuple[str, list[Json]] | None = None
) -> tuple[str, list[Json] | None]:
    """A message's text and blocks, checked against Slack's limits."""
    text = params.get("text")
    blocks: Any = params.get("blocks")
    if blocks is not None:
        problems = limits.message_problems(blocks)
        if problems:
            raise MethodError("invalid_blocks", problems)
    if text is not None and not isinstance(text, str):
        text = str(text)
    if limits.text_too_long(text):
        raise MethodError("msg_too_long")
    if keep is None and not text and not blocks and not params.get("attachments"):
        raise MethodError("no_text")
    if keep is not None and text is None and blocks is None:
        raise MethodError("no_text")
    default_text = keep[0] if keep is not None else ""
    return (text if text is not None else default_text), blocks


def _view_param(params: Json, expected_type: str) -> Json:
    view = params.get("view")
    if view is None:
        raise MethodError("invalid_arguments", ["[ERROR] missing required field: view"])
    problems = limits.view_problems(view, expected_type=expected_type)
    if problems or not isinstance(view, dict):
        raise MethodError("invalid_arguments", problems)
    return view


def _view_with_ids(definition: Json) -> Json:
    return {**definition, "blocks": with_ids(list(definition.get("blocks") or []))}
