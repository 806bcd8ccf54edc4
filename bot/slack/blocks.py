"""Chat-neutral messages as Block Kit, within Slack's limits.

A message reads top to bottom as: header (title), text, sections (digest items with their
button beside them, or bold headings), facts as two-column fields, the progress bar, the
buttons, and the footer in small print. A message's chart is not drawn here: the notifier
uploads it as a picture. Buttons carry `action_id` = the verb and `value` = the action's
value, which is what the click handlers dispatch on.

Slack refuses a whole message when any limit is exceeded, so nothing here is left to chance:
every text is cut with "…", and a message too long for its budget of blocks and characters
loses list items first (ending with "…and N more"), then its footer, bar, text and buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.limits import (
    ACTIONS_ELEMENTS,
    BUTTON_TEXT,
    BUTTON_VALUE,
    FIELD_TEXT,
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    MESSAGE_CHARS,
    MESSAGE_TEXT,
    SECTION_FIELDS,
    SECTION_TEXT,
    cut,
    fit_mrkdwn,
    text_size,
)
from workflows.messages import Action, Fact, Message, Progress, Section
from workflows.money import format_usd, percent_of

log = logging.getLogger(__name__)

BAR_WIDTH = 10
_LABEL_TEXT = 200
"""A fact's label shares its field with the value; the label gets at most this much of it."""
_MORE_CHARS = 40
"""Room kept for a "…and N more" line."""

Blocks = list[dict[str, Any]]


def message_blocks(
    message: Message, *, max_blocks: int = MESSAGE_BLOCKS, max_chars: int = MESSAGE_CHARS
) -> Blocks:
    """The message as Block Kit dicts: at most `max_blocks` blocks and `max_chars` characters
    of text (see `limits.text_size`).

    Returns an empty list only for a message with nothing to show.
    """
    if max_blocks < 1:
        raise ValueError(f"max_blocks must be at least 1, not {max_blocks}")
    header = _header(message.title)
    text = _section(message.text)
    bar = None if message.progress is None else _section(progress_line(message.progress))
    footer = _context(message.footer) if message.footer.strip() else None
    want_sections, want_facts = bool(message.sections), bool(message.facts)

    def fixed() -> list[Block]:
        return [b for b in (header, text, bar, footer) if b is not None]

    def chars_left() -> int:
        reserve = _MORE_CHARS * (want_sections + want_facts)
        return max_chars - sum(text_size(b.to_dict()) for b in fixed()) - reserve

    rows = _action_rows(message.actions, max_chars=chars_left())
    # Each list needs a block at least, for its first item or its "and N more" line. Without
    # room for that, things go least useful first; the header goes last.
    while len(fixed()) + len(rows) + want_sections + want_facts > max_blocks or chars_left() < 0:
        if footer is not None:
            footer = None
        elif bar is not None:
            bar = None
        elif want_facts:
            want_facts = False
        elif want_sections:
            want_sections = False
        elif text is not None:
            text = None
        elif rows:
            rows.pop()
        elif header is not None:
            header = None
        else:
            break
    room = max_blocks - len(fixed()) - len(rows)
    room_chars = max_chars - sum(text_size(b.to_dict()) for b in [*fixed(), *rows])
    items: list[Block] = []
    if want_sections:
        items = _fit_sections(
            message.sections,
            max_blocks=room - want_facts,
            max_chars=room_chars - _MORE_CHARS * want_facts,
        )
        room = max_blocks - len(fixed()) - len(rows) - len(items)
        room_chars = max_chars - text_size([b.to_dict() for b in [*fixed(), *rows, *items]])
    if want_facts:
        items += _fit_facts(message.facts, max_blocks=room, max_chars=room_chars)
    blocks = [header, text, *items, bar, *rows, footer]
    return [b.to_dict() for b in blocks if b is not None]


def many_messages_blocks(
    messages: Sequence[Message],
    *,
    max_blocks: int = MESSAGE_BLOCKS,
    max_chars: int | None = MESSAGE_CHARS,
) -> Blocks:
    """Several messages as one list of blocks, with dividers between them, within the limits.

    Messages are shown whole, in order, while they fit; the first is cut to fit if it must.
    Those that do not fit are counted in a closing "…and N more" line. `max_chars` None
    bounds only each message by itself (views, where Slack documents no total).
    """
    per_message = MESSAGE_CHARS if max_chars is None else min(MESSAGE_CHARS, max_chars)
    blocks: Blocks = []
    for index, message in enumerate(messages):
        divider = [DividerBlock().to_dict()] if blocks else []
        # Keep room for the "and N more" line while other messages still follow.
        reserve = 1 if index < len(messages) - 1 else 0
        room = max_blocks - len(blocks) - len(divider) - reserve
        room_chars = per_message
        if max_chars is not None:
            room_chars = max_chars - text_size([*blocks, *divider]) - reserve * _MORE_CHARS
        whole = message_blocks(message, max_chars=per_message)
        if not whole:
            continue
        if len(whole) <= room and text_size(whole) <= room_chars:
            blocks += divider + whole
        elif not blocks and room >= 1:
            blocks += message_blocks(
                message, max_blocks=room, max_chars=min(room_chars, per_message)
            )
        else:
            return [*blocks, _more(len(messages) - index).to_dict()]
    return blocks


def fallback_text(message: Message) -> str:
    """The message's top-level `text`: what notifications and screen readers announce."""
    parts = [part.strip() for part in (message.title, message.text) if part.strip()]
    return fit_mrkdwn(" — ".join(parts) or "capdesk", MESSAGE_TEXT)


def progress_line(progress: Progress) -> str:
    """`*Spent this month*` over `▓▓▓▓▓▓▓░░░ 74% of $85`; the bar stops at full, the % does not.

    Markdown, not yet escaped.
    """
    label = cut(_one_line(progress.label), _LABEL_TEXT)
    head = f"*{label}*\n" if label else ""
    if progress.limit_cents <= 0:
        return f"{head}{format_usd(progress.used_cents)}, no limit"
    percent = percent_of(progress.used_cents, progress.limit_cents)
    filled = max(0, min(BAR_WIDTH, progress.used_cents * BAR_WIDTH // progress.limit_cents))
    bar = "▓" * filled + "░" * (BAR_WIDTH - filled)
    return f"{head}`{bar}` {percent}% of {format_usd(progress.limit_cents)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _header(title: str) -> HeaderBlock | None:
    title = _one_line(title)
    if not title:
        return None
    return HeaderBlock(text=PlainTextObject(text=cut(title, HEADER_TEXT), emoji=True))


def _section(text: str) -> SectionBlock | None:
    if not text.strip():
        return None
    return SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(text.strip(), SECTION_TEXT)))


def _paragraph(section: Section) -> SectionBlock:
    """A digest item with its button beside it, or a heading in bold."""
    text = _one_line(section.text) if section.heading else section.text.strip()
    text = fit_mrkdwn(text or "—", SECTION_TEXT - 2 * section.heading)
    action = section.action
    accessory = None
    if action is not None and len(action.value) <= BUTTON_VALUE:
        accessory = _button(action)
    return SectionBlock(
        text=MarkdownTextObject(text=f"*{text}*" if section.heading else text), accessory=accessory
    )


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(text.strip(), SECTION_TEXT))])


def _more(count: int) -> ContextBlock:
    return _context(f"…and {count} more")


def _field(fact: Fact) -> MarkdownTextObject:
    label = fit_mrkdwn(_one_line(fact.label), _LABEL_TEXT)
    head = f"*{label}*" if label else ""
    value = fit_mrkdwn(fact.value.strip(), FIELD_TEXT - len(head) - 1)
    return MarkdownTextObject(text="\n".join(part for part in (head, value) if part) or "—")


def _fit_facts(facts: Sequence[Fact], *, max_blocks: int, max_chars: int) -> list[Block]:
    """Facts in sections of up to ten fields, as many as fit, then "…and N more" if some
    did not."""
    fields = [_field(fact) for fact in facts]
    sizes = [text_size(f.to_dict()) for f in fields]
    section_size = len(SectionBlock.type)
    needed_blocks = -(-len(fields) // SECTION_FIELDS)
    if needed_blocks <= max_blocks and sum(sizes) + needed_blocks * section_size <= max_chars:
        count = len(fields)
    else:
        count, used = 0, 0
        room_blocks, room_chars = max_blocks - 1, max_chars - _MORE_CHARS
        while count < len(fields):
            opens = count % SECTION_FIELDS == 0
            cost = sizes[count] + (section_size if opens else 0)
            if used + cost > room_chars or (opens and count // SECTION_FIELDS >= room_blocks):
                break
            used += cost
            count += 1
    shown = fields[:count]
    blocks: list[Block] = [
        SectionBlock(fields=shown[i : i + SECTION_FIELDS]) for i in range(0, count, SECTION_FIELDS)
    ]
    if count < len(fields):
        blocks.append(_more(len(fields) - count))
    return blocks


def _fit_sections(sections: Sequence[Section], *, max_blocks: int, max_chars: int) -> list[Block]:
    """Sections, as many as fit, then "…and N more" if some did not; a heading left with
    nothing under it goes too."""
    blocks = [_paragraph(section) for section in sections]
    sizes = [text_size(b.to_dict()) for b in blocks]
    if len(blocks) <= max_blocks and sum(sizes) <= max_chars:
        return list(blocks)
    count, used = 0, 0
    while count < len(blocks) and count < max_blocks - 1:
        if used + sizes[count] > max_chars - _MORE_CHARS:
            break
        used += sizes[count]
        count += 1
    if count and sections[count - 1].heading:
        count -= 1
    left_out = sum(not s.heading for s in sections[count:])
    return [*blocks[:count], *([_more(left_out)] if left_out else [])]


def _button(action: Action) -> ButtonElement:
    label = _one_line(action.label) or action.verb.value.replace("_", " ").capitalize()
    return ButtonElement(
        text=PlainTextObject(text=cut(label, BUTTON_TEXT), emoji=True),
        action_id=action.verb.value,
        value=action.value,
        style=action.style,
    )


def _action_rows(actions: Sequence[Action], *, max_chars: int) -> list[ActionsBlock]:
    """Buttons in rows, a new row whenever a verb repeats: Slack wants each `action_id`
    unique within its block, and the handlers want `action_id` to be exactly the verb.

    Buttons past `max_chars` are left out."""
    rows: list[list[ButtonElement]] = []
    used = 0
    for index, action in enumerate(actions):
        if len(action.value) > BUTTON_VALUE:
            # A cut value would point at another subject; a missing button points at none.
            log.warning("left out the %s button: its value is over %d", action.verb, BUTTON_VALUE)
            continue
        button = _button(action)
        row = rows[-1] if rows else None
        opens = (
            row is None
            or len(row) == ACTIONS_ELEMENTS
            or any(b.action_id == button.action_id for b in row)
        )
        cost = text_size(button.to_dict()) + (len(ActionsBlock.type) if opens else 0)
        if used + cost > max_chars:
            log.warning("left out %d buttons: the message is too long", len(actions) - index)
            break
        used += cost
        if row is None or opens:
            row = []
            rows.append(row)
        row.append(button)
    return [ActionsBlock(elements=row) for row in rows]
