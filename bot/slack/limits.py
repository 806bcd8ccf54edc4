"""Block Kit's size limits, and cutting text to them.

Slack refuses a whole message (`invalid_blocks`) when one text is a character too long, so
every text that leaves the renderer goes through `cut` or `fit_mrkdwn` first. Both also write
the domain's commands the Slack way, `/capdesk …` (`slack_text`).
"""

from __future__ import annotations

from typing import Any

from workflows.alerts.digest import DigestBudget
from workflows.messages import written_for

COMMAND = "/capdesk"
"""The slash command the manifest declares; commands in texts are written with it."""

MESSAGE_BLOCKS = 50
"""Blocks in one message."""
VIEW_BLOCKS = 100
"""Blocks in one modal or App Home view."""
SECTION_TEXT = 3000
FIELD_TEXT = 2000
"""Characters in one section field."""
SECTION_FIELDS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTIONS_ELEMENTS = 25
VIEW_TITLE = 24
"""Characters in a modal's title, submit and close labels."""
OPTION_TEXT = 75
MESSAGE_TEXT = 4000
"""The top-level `text` of a message: Slack truncates beyond 40,000, but advises 4,000."""
MESSAGE_CHARS = 12_000
"""Text in one message's blocks, as `text_size` counts it. Undocumented: Slack answers
`msg_blocks_too_long` from about 13,000 characters (slackapi/bolt-js#2509)."""

DIGEST = DigestBudget(sections=40, text=2900)
"""What a digest may hold: its sections become blocks (50 a message, with room for the header,
the summary and "and N more"), and a section's text may have 3000 characters, less what
escaping adds."""

ELLIPSIS = "…"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def slack_text(text: str) -> str:
    """The domain's text with its commands as typed in Slack: `/capdesk cancel 42`."""
    return written_for(text, f"{COMMAND} ")


def cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start with a trailing "…"."""
    text = slack_text(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves for links and mentions.

    Only `&`, `<` and `>`: the domain's `*bold*` and `` `code` `` stay formatting, while a
    `<!channel>` typed into a reason stays text instead of pinging a channel.
    """
    return "".join(_ESCAPES.get(char, char) for char in slack_text(text))


def fit_mrkdwn(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn and cut to `limit` characters, never inside an `&amp;`."""
    text = slack_text(text)
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    used = len(ELLIPSIS)
    for char in text:
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > limit:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + ELLIPSIS


def text_size(value: Any) -> int:
    """The characters of every string in a block (or list of blocks): its share of
    `MESSAGE_CHARS`."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(text_size(item) for item in value.values())
    if isinstance(value, list):
        return sum(text_size(item) for item in value)
    return 0
