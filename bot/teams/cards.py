"""Chat-neutral messages as Adaptive Cards (version 1.5), within what Teams accepts.

A card reads top to bottom as: the title (a heading), the text, the sections (digest items
with their button beside them, or bold headings), the facts as a `FactSet`, the progress bar,
the chart, the footer in small print, and the buttons in the card's action bar. Buttons are
`Action.Execute` with `verb` = the domain's verb and `data` = `{"value": <the action's value>}`;
Teams sends them back as an `adaptiveCard/action` invoke, which `read_action` turns into a
`CardAction`. The data only names the subject: who may act is decided from the sender.

Deny needs a reason, so Deny is an `Action.ShowCard` that opens, inside the card, a required
reason field (`Input.Text`, with the domain's length limits) and the real Deny button. Teams
merges the field into the button's data under the field's id, which the button's data names
(`reasonInput`), so several Deny buttons on one card keep distinct fields. The other verbs
that need a form (request more, extend, raise cap) are plain buttons: the adapter answers
their invoke with the form's card, as the Slack adapter opens a modal.

Teams renders a subset of Markdown in `TextBlock` and `FactSet` (bold `**x**`, italic `_x_`,
lists, links) and no HTML; headings, tables, images, code and quotes are shown as typed. The
domain writes Slack-flavoured `*bold*` and `` `code` ``: both become `**bold**`. A link typed
into a reason (`[text](url)`) is broken with a zero-width space, so a card can never carry a
disguised link; a bare URL stays visible as it is.

The chart: Teams documents card images as an HTTPS URL (at most 1024 x 1024 px, PNG, JPEG or
GIF), and the reports of `data:` URIs in card images, in personal and group chats, are that
the desktop and web clients do not show them while the mobile clients do
(MicrosoftDocs/msteams-docs #5355 and #9161, microsoft/AdaptiveCards #4487 and #6076; more in
docs/teams-cards.md). A chart's base64 would also take the whole size budget. So the chart is
an `Image` whose URL the caller gives (`bot.teams.images` serves the PNG under an unguessable
token on capdesk's host), or, without a URL, the same bars as text.

Teams refuses a message over its size limit (413 `MessageSizeTooBig`; the limit counts the
payload as UTF-16). It documents 100 KB for bot messages now, 40 KB before, and 28 KB for
incoming webhooks and flows; a card here stays within `CARD_BYTES` (28 KB of UTF-16 JSON),
which fits every one of them with room for the activity around it. Every text is cut with
"…" to its own limit; the buttons take the room the texts leave, and the lists (sections, then
facts) the rest, ending with "…and N more". Only texts too big for the budget even then lose
the footer, bar, chart, lists and text in turn, the title last.

A card never has `refresh`: after a decision every copy is replaced by the card of the new
message (`settled_card`), as Slack's `chat.update` does.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.messages import (
    Action,
    Chart,
    Fact,
    Message,
    Progress,
    Section,
    Verb,
    written_for,
)
from workflows.money import format_usd
from workflows.requests.validation import REASON_MAX, REASON_MIN

log = logging.getLogger(__name__)

Card = dict[str, Any]
"""An Adaptive Card as JSON-ready dicts: the `content` of an attachment of type
`application/vnd.microsoft.card.adaptive`."""

CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_BYTES = 28 * 1024
"""The card's JSON as UTF-16, as Teams counts a message's size."""
MIN_CARD_BYTES = 2048
"""The smallest budget `message_card` accepts: an empty card with its fallback text."""

TITLE_CHARS = 150
TEXT_CHARS = 3000
"""Characters of one text block (the text, a section, the footer, a chart panel)."""
FACT_LABEL_CHARS = 200
FACT_VALUE_CHARS = 2000
BUTTON_CHARS = 75
VALUE_CHARS = 2000
"""An action's value travels whole or not at all: a cut value would name another subject."""
FALLBACK_CHARS = 300
BAR_WIDTH = 10

REASON_INPUT = "reason"
"""The id of the first Deny button's reason field; further ones get `reason-2`, `reason-3`…"""
_MORE = "…and {} more"
_ELLIPSIS = "…"
_STYLES = {"primary": "positive", "danger": "destructive"}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINK = re.compile(r"\](?=[(\[:])")
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"(?<![\w*\\])\*([^*\s](?:[^*\n]*[^*\s])?)\*(?![\w*])")
_NEWLINES = re.compile(r"\n+")


@dataclass(frozen=True, slots=True)
class CardAction:
    """What a click on a card asks for: the verb, its subject, and the reason of a denial."""

    verb: Verb
    value: str
    reason: str | None = None


def message_card(
    message: Message, *, chart_url: str | None = None, max_bytes: int = CARD_BYTES
) -> Card:
    """The message as an Adaptive Card of at most `max_bytes` (see `card_bytes`).

    `chart_url` is where the message's chart is served as a PNG; without it the chart is
    drawn as text. A message with nothing to show gives a card with an empty body.
    """
    if max_bytes < MIN_CARD_BYTES:
        raise ValueError(f"max_bytes must be at least {MIN_CARD_BYTES}, not {max_bytes}")
    return _Layout.of(message, chart_url).fit(max_bytes)


def settled_card(
    message: Message, *, status: str, chart_url: str | None = None, max_bytes: int = CARD_BYTES
) -> Card:
    """The message's card once it is settled: no buttons anywhere, `status` as its footer.

    This replaces every copy of an approval card after the decision ("Approved by Dana Okafor
    at 14:02"), and the card a refused click came from.
    """
    sections = tuple(s.model_copy(update={"action": None}) for s in message.sections)
    settled = message.model_copy(update={"actions": (), "sections": sections, "footer": status})
    return message_card(settled, chart_url=chart_url, max_bytes=max_bytes)


def card_bytes(card: Card) -> int:
    """The card's size as Teams counts it: its JSON encoded as UTF-16."""
    return len(json.dumps(card, ensure_ascii=False).encode("utf-16-le"))


def fallback_text(message: Message) -> str:
    """One line for notifications, screen readers and clients that cannot show the card."""
    parts = [_one_line(part) for part in (message.title, message.text)]
    return _cut(teams_markdown(" — ".join(p for p in parts if p)) or "capdesk", FALLBACK_CHARS)


def teams_markdown(text: str) -> str:
    """The domain's text as the Markdown Teams renders in cards (see the module docstring);
    its commands are written as typed in the bot's chat, with no prefix."""
    text = _clean(written_for(text, ""))
    text = _LINK.sub("]\u200b", text)
    text = _CODE.sub(r"**\1**", text)
    text = _BOLD.sub(r"**\1**", text)
    # Teams joins lines split by a single newline; a paragraph break keeps them apart.
    return _NEWLINES.sub("\n\n", text)


def progress_line(progress: Progress) -> str:
    """`▓▓▓▓▓▓▓░░░ 74% of $85`; the bar stops at full, the percentage does not."""
    if progress.limit_cents <= 0:
        return f"{format_usd(progress.used_cents)}, no limit"
    percent, filled = progress.percent(), progress.cells(BAR_WIDTH)
    bar = "▓" * filled + "░" * (BAR_WIDTH - filled)
    return f"{bar} {percent}% of {format_usd(progress.limit_cents)}"


def read_action(verb: object, data: object) -> CardAction | None:
    """The click an `adaptiveCard/action` invoke carries, or None for anything capdesk never
    put on a card (an unknown verb, data without a string value, a value too long).

    Hostile data gets no further than this: the reason is only ever the clicker's own text.
    """
    if not isinstance(verb, str) or not isinstance(data, Mapping):
        return None
    try:
        known = Verb(verb)
    except ValueError:
        return None
    value = data.get("value")
    if not isinstance(value, str) or len(value) > VALUE_CHARS:
        return None
    if known is not Verb.DENY:
        return CardAction(known, value)
    input_id = data.get("reasonInput", REASON_INPUT)
    reason = data.get(input_id) if isinstance(input_id, str) else None
    return CardAction(known, value, reason if isinstance(reason, str) else None)


# --------------------------------------------------------------------------- layout


@dataclass
class _Layout:
    """A message's elements, rendered once; `fit` chooses how many of them the card holds."""

    title: dict[str, Any] | None
    text: dict[str, Any] | None
    sections: list[dict[str, Any]]
    headings: list[bool]
    facts: list[dict[str, str]]
    progress: list[dict[str, Any]]
    chart: list[dict[str, Any]]
    footer: dict[str, Any] | None
    actions: list[dict[str, Any]]
    fallback: str
    show_sections: bool = field(init=False)
    show_facts: bool = field(init=False)

    def __post_init__(self) -> None:
        self.show_sections, self.show_facts = bool(self.sections), bool(self.facts)

    @classmethod
    def of(cls, message: Message, chart_url: str | None) -> _Layout:
        reasons = _ReasonIds()
        # Sections first: reason fields are numbered in the order they appear on the card.
        sections = [_section(s, reasons) for s in message.sections]
        actions = [_action(a, reasons) for a in message.actions if _value_fits(a, where="the card")]
        return cls(
            title=_title(message.title),
            text=_text_block(message.text),
            sections=sections,
            headings=[s.heading for s in message.sections],
            facts=[_fact(f) for f in message.facts],
            progress=_progress(message.progress),
            chart=_chart(message.chart, chart_url),
            footer=_footer(message.footer),
            actions=actions,
            fallback=fallback_text(message),
        )

    def card(self, *, sections: int, facts: int, actions: int) -> Card:
        body = [b for b in (self.title, self.text) if b is not None]
        if self.show_sections:
            body += self.sections[:sections]
            left_out = sum(not heading for heading in self.headings[sections:])
            if left_out:
                body.append(_more(left_out))
        if self.show_facts:
            if facts:
                body.append({"type": "FactSet", "facts": self.facts[:facts]})
            if facts < len(self.facts):
                body.append(_more(len(self.facts) - facts))
        body += self.progress + self.chart
        if self.footer is not None:
            body.append(self.footer)
        card: Card = {
            "type": "AdaptiveCard",
            "$schema": CARD_SCHEMA,
            "version": CARD_VERSION,
            "fallbackText": self.fallback,
            "body": body,
        }
        if actions:
            card["actions"] = self.actions[:actions]
        return card

    def fit(self, max_bytes: int) -> Card:
        whole = self.card(
            sections=len(self.sections), facts=len(self.facts), actions=len(self.actions)
        )
        if card_bytes(whole) <= max_bytes:
            return whole

        def fits(**counts: int) -> bool:
            sizes = {"sections": 0, "facts": 0, "actions": 0} | counts
            return card_bytes(self.card(**sizes)) <= max_bytes

        # Each list needs room for its "and N more" line at least; without it, things go
        # least useful first and the title last.
        while not fits() and self._drop_one():
            pass
        actions = _largest(len(self.actions), lambda n: fits(actions=n))
        if actions < len(self.actions):
            log.warning("left out %d buttons: the card is too big", len(self.actions) - actions)
        sections = len(self.sections)
        if not fits(sections=sections, actions=actions):
            # The last count is left out: all sections shown drop the "and N more" line, so
            # the size grows with the count only below it.
            sections = _largest(len(self.sections) - 1, lambda n: fits(sections=n, actions=actions))
            while sections and self.headings[sections - 1]:
                sections -= 1
        facts = len(self.facts)
        if not fits(sections=sections, facts=facts, actions=actions):
            facts = _largest(
                len(self.facts) - 1, lambda n: fits(sections=sections, facts=n, actions=actions)
            )
        return self.card(sections=sections, facts=facts, actions=actions)

    def _drop_one(self) -> bool:
        """Leave out the least useful part still there; False when nothing is left."""
        if self.footer is not None:
            self.footer = None
        elif self.progress:
            self.progress = []
        elif self.chart:
            self.chart = []
        elif self.show_facts:
            self.show_facts = False
        elif self.show_sections:
            self.show_sections = False
        elif self.text is not None:
            self.text = None
        elif self.title is not None:
            self.title = None
        else:
            return False
        return True


def _largest(limit: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [0, limit] with fits(n), for fits true up to some n and false after."""
    low, high = 0, max(limit, 0)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


# --------------------------------------------------------------------------- elements


def _clean(text: str) -> str:
    """Control characters dropped, line ends made `\\n`: they only ever mangle a card."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start with a trailing "…"."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + _ELLIPSIS


def _markdown(text: str, limit: int) -> str:
    return _cut(teams_markdown(text.strip()).strip(), limit)


def _block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _title(title: str) -> dict[str, Any] | None:
    text = _cut(teams_markdown(_one_line(title)), TITLE_CHARS)
    if not text:
        return None
    return _block(text, style="heading", size="large", weight="bolder")


def _text_block(text: str) -> dict[str, Any] | None:
    shown = _markdown(text, TEXT_CHARS)
    return _block(shown) if shown else None


def _footer(text: str) -> dict[str, Any] | None:
    shown = _markdown(text, TEXT_CHARS)
    if not shown:
        return None
    return _block(shown, isSubtle=True, size="small", spacing="medium", separator=True)


def _more(count: int) -> dict[str, Any]:
    return _block(_MORE.format(count), isSubtle=True, size="small")


def _fact(fact: Fact) -> dict[str, str]:
    label = _cut(teams_markdown(_one_line(fact.label)), FACT_LABEL_CHARS)
    return {"title": label or "—", "value": _markdown(fact.value, FACT_VALUE_CHARS) or "—"}


def _section(section: Section, reasons: _ReasonIds) -> dict[str, Any]:
    """A heading in bold, or a digest item with its button beside it."""
    if section.heading:
        text = _cut(teams_markdown(_one_line(section.text)), TEXT_CHARS) or "—"
        return _block(text, weight="bolder", size="medium", spacing="medium")
    item = _block(_markdown(section.text, TEXT_CHARS) or "—")
    action = section.action
    if action is None or not _value_fits(action, where="a section"):
        return item
    return {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": "stretch", "items": [item]},
            {
                "type": "Column",
                "width": "auto",
                "verticalContentAlignment": "center",
                "items": [{"type": "ActionSet", "actions": [_action(action, reasons)]}],
            },
        ],
    }


def _progress(progress: Progress | None) -> list[dict[str, Any]]:
    """The label in bold over a monospace bar, coloured by how full it is."""
    if progress is None:
        return []
    colour = "default"
    if progress.limit_cents > 0:
        percent = progress.percent()
        colour = "attention" if percent >= 100 else "warning" if percent >= 85 else "good"
    bar = _block(progress_line(progress), fontType="monospace", color=colour, spacing="small")
    label = _cut(teams_markdown(_one_line(progress.label)), FACT_LABEL_CHARS)
    if not label:
        return [bar]
    return [_block(label, weight="bolder", spacing="medium"), bar]


def _chart(chart: Chart | None, url: str | None) -> list[dict[str, Any]]:
    """The chart's picture at `url`, or without one each panel's bars as monospace text."""
    if chart is None:
        return []
    title = _cut(_one_line(chart.title), TITLE_CHARS) or "Chart"
    if url is not None:
        return [{"type": "Image", "url": url, "altText": title, "size": "stretch"}]
    blocks = [_block(_cut(teams_markdown(title), TITLE_CHARS), weight="bolder", spacing="medium")]
    for panel in chart.panels:
        lines = [f"_{_one_line(panel.title)}_"] if panel.title.strip() else []
        if not panel.bars:
            lines.append("no spend yet")
        scale = max([max(b.value_cents, b.limit_cents or 0) for b in panel.bars] or [1]) or 1
        for bar in panel.bars:
            filled = max(0, min(BAR_WIDTH, bar.value_cents * BAR_WIDTH // scale))
            limit = f" of {format_usd(bar.limit_cents)}" if bar.limit_cents else ""
            cells = "▓" * filled + "░" * (BAR_WIDTH - filled)
            label = _cut(_one_line(bar.label), FACT_LABEL_CHARS)
            lines.append(f"{cells} {format_usd(bar.value_cents)}{limit} {label}")
        text = _markdown("\n".join(lines), TEXT_CHARS)
        if text:
            blocks.append(_block(text, fontType="monospace"))
    return blocks


@dataclass
class _ReasonIds:
    """Gives each Deny button of one card its own reason field id."""

    used: int = 0

    def next(self) -> str:
        self.used += 1
        return REASON_INPUT if self.used == 1 else f"{REASON_INPUT}-{self.used}"


def _value_fits(action: Action, *, where: str) -> bool:
    if len(action.value) <= VALUE_CHARS:
        return True
    log.warning(
        "left out the %s button of %s: its value is over %d", action.verb, where, VALUE_CHARS
    )
    return False


def _label(action: Action) -> str:
    return (
        _cut(_one_line(action.label), BUTTON_CHARS)
        or action.verb.value.replace("_", " ").capitalize()
    )


def _action(action: Action, reasons: _ReasonIds) -> dict[str, Any]:
    """`Action.Execute` with the verb and value; Deny first opens its reason field."""
    execute: dict[str, Any] = {
        "type": "Action.Execute",
        "title": _label(action),
        "verb": action.verb.value,
        "data": {"value": action.value},
        "associatedInputs": "None",
    }
    if action.style is not None:
        execute["style"] = _STYLES[action.style]
    if action.verb is not Verb.DENY:
        return execute
    input_id = reasons.next()
    execute["data"] = {"value": action.value, "reasonInput": input_id}
    execute["associatedInputs"] = "Auto"
    reason = {
        "type": "Input.Text",
        "id": input_id,
        "label": "Reason for the denial",
        "placeholder": "The requester will read it",
        "isMultiline": True,
        "isRequired": True,
        "maxLength": REASON_MAX,
        # At least REASON_MIN characters between the first and the last that are not blank.
        "regex": rf"^\s*\S[\s\S]{{{REASON_MIN - 2},}}\S\s*$",
        "errorMessage": f"Give a reason of {REASON_MIN} to {REASON_MAX} characters.",
    }
    show: dict[str, Any] = {
        "type": "Action.ShowCard",
        "title": execute["title"],
        "card": {"type": "AdaptiveCard", "body": [reason], "actions": [execute]},
    }
    if "style" in execute:
        show["style"] = execute["style"]
    return show
