"""What the bot's replies do in the workspace: response_url posts and slash-command acks.

Both carry a message body (docs.slack.dev, "Handling user interaction"): `text`/`blocks`,
`response_type` ("ephemeral", the default, or "in_channel"), `replace_original` and
`delete_original` (which act on the message whose button was clicked).
"""

from __future__ import annotations

from bot.slack.emulator import limits
from bot.slack.emulator.methods import WebApiMethods
from bot.slack.emulator.state import (
    Ephemeral,
    Json,
    Message,
    ResponseTarget,
    WorkspaceState,
    with_ids,
)


class Responder:
    """Applies reply bodies to the state."""

    def __init__(self, state: WorkspaceState, methods: WebApiMethods) -> None:
        self._state = state
        self._methods = methods

    def apply(self, target: ResponseTarget, body: Json) -> list[str]:
        """Applies `body`; the problems Slack would refuse it for (then nothing changes)."""
        original = self._original(target)
        if body.get("delete_original"):
            if original is not None:
                original.deleted = True
            return []
        text = body.get("text")
        blocks = body.get("blocks")
        problems = limits.message_problems(blocks)
        if limits.text_too_long(text if isinstance(text, str) else None):
            problems.append("msg_too_long")
        if not text and not blocks:
            problems.append("no_text")
        if problems:
            return problems
        text = str(text or "")
        if body.get("replace_original") and original is not None:
            original.replace(text, with_ids(blocks or []))
        elif body.get("response_type") == "in_channel":
            self._methods.add_message(target.channel, text, blocks or [])
        else:
            self._methods.add_ephemeral(target.channel, target.user, text, blocks or [])
        return []

    def _original(self, target: ResponseTarget) -> Message | Ephemeral | None:
        if target.message_ts is None:
            return None
        if target.ephemeral:
            return self._state.ephemeral(target.channel, target.message_ts)
        return self._state.message(target.channel, target.message_ts)
