"""Block Kit limits, checked as Slack checks them, so the bot's overflows fail in tests too.

The figures are Slack's published ones (docs.slack.dev, "Reference: blocks", "Block
elements", "Composition objects", "Modal/Home view objects", `chat.postMessage`), which
slack_sdk's `models` mirror as `*_max_length` attributes:

- up to 50 blocks in a message, 100 in a modal or Home tab;
- section `text` 1..3000 characters, at most 10 `fields` of up to 2000 each;
- header text up to 150; block_id and action_id up to 255;
- actions block: at most 25 elements; context block: at most 10;
- button text up to 75, `value` up to 2000, `url` up to 3000;
- option text up to 75 and value up to 150, at most 100 options in a select;
- input label and hint up to 2000, placeholder up to 150;
- view title, submit and close up to 24, `private_metadata` up to 3000, callback_id up to 255;
- a message's top-level `text` up to 40,000 characters (`msg_too_long` beyond).

Problems are reported in Slack's own phrasing, as `response_metadata.messages` carries them:
``[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MESSAGE_TEXT_MAX = 40_000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OPTIONS_MAX = 100
LABEL_MAX = 2000
PLACEHOLDER_MAX = 150
VIEW_TITLE_MAX = 24
PRIVATE_METADATA_MAX = 3000
MARKDOWN_BLOCK_MAX = 12_000

_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_INPUTS = frozenset(
    {
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
        "file_input",
    }
)
_ELEMENTS = _SELECTS | _INPUTS | {"button", "overflow", "image"}
_BLOCKS = frozenset(
    {
        "section",
        "header",
        "divider",
        "actions",
        "context",
        "input",
        "image",
        "rich_text",
        "markdown",
        "file",
        "video",
    }
)


def message_problems(blocks: Any) -> list[str]:
    """What Slack would reject in a message's blocks (`invalid_blocks`); empty when fine."""
    if blocks is None:
        return []
    return _Checker().blocks(blocks, "/blocks", MESSAGE_BLOCKS_MAX)


def text_too_long(text: str | None) -> bool:
    """Whether the top-level `text` is over Slack's 40,000 characters (`msg_too_long`)."""
    return text is not None and len(text) > MESSAGE_TEXT_MAX


def view_problems(view: Any, *, expected_type: str | None = None) -> list[str]:
    """What Slack would reject in a modal or Home view (`invalid_arguments`)."""
    check = _Checker()
    if not isinstance(view, dict):
        return ["[ERROR] must be an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in ("modal", "home") or (expected_type and kind != expected_type):
        check.error("/view/type", f"must be one of the following: {expected_type or 'modal, home'}")
    if kind == "modal":
        check.text(view.get("title"), "/view/title", VIEW_TITLE_MAX, plain=True, required=True)
        for key in ("submit", "close"):
            check.text(view.get(key), f"/view/{key}", VIEW_TITLE_MAX, plain=True)
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and view.get("submit") is None:
            check.error("/view/submit", "must provide submit when the view has input blocks")
    check.length(view.get("private_metadata"), "/view/private_metadata", PRIVATE_METADATA_MAX)
    check.length(view.get("callback_id"), "/view/callback_id", ID_MAX)
    check.length(view.get("external_id"), "/view/external_id", ID_MAX)
    check.problems += check.blocks(view.get("blocks"), "/view/blocks", VIEW_BLOCKS_MAX)
    return check.problems


class _Checker:
    """Collects problems while walking one surface's JSON."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def error(self, pointer: str, reason: str) -> None:
        self.problems.append(f"[ERROR] {reason} [json-pointer:{pointer}]")

    def length(self, value: Any, pointer: str, maximum: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.error(pointer, "must be a string")
        elif len(value) > maximum:
            self.error(pointer, f"must be less than {maximum + 1} characters")

    def text(
        self,
        obj: Any,
        pointer: str,
        maximum: int,
        *,
        plain: bool = False,
        required: bool = False,
    ) -> None:
        if obj is None:
            if required:
                self.error(pointer, "is required")
            return
        if not isinstance(obj, dict):
            self.error(pointer, "must be a text object")
            return
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.error(f"{pointer}/type", f"must be one of the following: {', '.join(allowed)}")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.error(f"{pointer}/text", "must be more than 0 characters")
        elif len(value) > maximum:
            self.error(f"{pointer}/text", f"must be less than {maximum + 1} characters")

    def blocks(self, blocks: Any, pointer: str, maximum: int) -> list[str]:
        if not isinstance(blocks, list):
            self.error(pointer, "must be an array")
            return self.problems
        if len(blocks) > maximum:
            self.error(pointer, f"no more than {maximum} items allowed")
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            where = f"{pointer}/{i}"
            if not isinstance(block, dict) or block.get("type") not in _BLOCKS:
                self.error(where, "failed to match all allowed schemas")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.length(block_id, f"{where}/block_id", ID_MAX)
                if block_id in seen:
                    self.error(f"{where}/block_id", f"duplicate block_id: {block_id}")
                seen.add(block_id)
            self._block(block, where)
        return self.problems

    def _block(self, block: dict[str, Any], where: str) -> None:
        kind = block["type"]
        if kind == "section":
            self._section(block, where)
        elif kind == "header":
            self.text(
                block.get("text"), f"{where}/text", HEADER_TEXT_MAX, plain=True, required=True
            )
        elif kind == "actions":
            self._elements(block.get("elements"), f"{where}/elements", ACTIONS_ELEMENTS_MAX)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.error(f"{where}/elements", "must provide at least 1 item")
            elif len(elements) > CONTEXT_ELEMENTS_MAX:
                self.error(
                    f"{where}/elements", f"no more than {CONTEXT_ELEMENTS_MAX} items allowed"
                )
        elif kind == "input":
            self.text(block.get("label"), f"{where}/label", LABEL_MAX, plain=True, required=True)
            self.text(block.get("hint"), f"{where}/hint", LABEL_MAX, plain=True)
            self._element(block.get("element"), f"{where}/element")
        elif kind == "markdown":
            self.length(block.get("text"), f"{where}/text", MARKDOWN_BLOCK_MAX)

    def _section(self, block: dict[str, Any], where: str) -> None:
        fields = block.get("fields")
        if block.get("text") is None and not fields:
            self.error(where, "must provide either text or fields")
        self.text(block.get("text"), f"{where}/text", SECTION_TEXT_MAX)
        if fields is not None:
            if not isinstance(fields, list):
                self.error(f"{where}/fields", "must be an array")
            else:
                if len(fields) > SECTION_FIELDS_MAX:
                    self.error(
                        f"{where}/fields", f"no more than {SECTION_FIELDS_MAX} items allowed"
                    )
                for i, field in enumerate(fields):
                    self.text(field, f"{where}/fields/{i}", SECTION_FIELD_TEXT_MAX)
        if block.get("accessory") is not None:
            self._element(block["accessory"], f"{where}/accessory")

    def _elements(self, elements: Any, where: str, maximum: int) -> None:
        if not isinstance(elements, list) or not elements:
            self.error(where, "must provide at least 1 item")
            return
        if len(elements) > maximum:
            self.error(where, f"no more than {maximum} items allowed")
        seen: set[str] = set()
        for i, element in enumerate(elements):
            self._element(element, f"{where}/{i}")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id is not None and action_id in seen:
                self.error(f"{where}/{i}/action_id", f"duplicate action_id: {action_id}")
            if action_id is not None:
                seen.add(action_id)

    def _element(self, element: Any, where: str) -> None:
        if not isinstance(element, dict) or element.get("type") not in _ELEMENTS:
            self.error(where, "failed to match all allowed schemas")
            return
        kind = element["type"]
        self.length(element.get("action_id"), f"{where}/action_id", ID_MAX)
        if kind == "button":
            self.text(
                element.get("text"), f"{where}/text", BUTTON_TEXT_MAX, plain=True, required=True
            )
            self.length(element.get("value"), f"{where}/value", BUTTON_VALUE_MAX)
            self.length(element.get("url"), f"{where}/url", URL_MAX)
            if element.get("style") not in (None, "primary", "danger"):
                self.error(f"{where}/style", "must be one of the following: primary, danger")
        if kind in _SELECTS or kind in ("plain_text_input", "number_input", "datepicker"):
            self.text(
                element.get("placeholder"), f"{where}/placeholder", PLACEHOLDER_MAX, plain=True
            )
        options = element.get("options")
        if options is not None:
            self._options(options, f"{where}/options")

    def _options(self, options: Any, where: str) -> None:
        if not isinstance(options, Sequence) or isinstance(options, str):
            self.error(where, "must be an array")
            return
        if len(options) > OPTIONS_MAX:
            self.error(where, f"no more than {OPTIONS_MAX} items allowed")
        for i, option in enumerate(options):
            if not isinstance(option, dict):
                self.error(f"{where}/{i}", "must be an option object")
                continue
            self.text(option.get("text"), f"{where}/{i}/text", OPTION_TEXT_MAX, required=True)
            self.length(option.get("value"), f"{where}/{i}/value", OPTION_VALUE_MAX)
