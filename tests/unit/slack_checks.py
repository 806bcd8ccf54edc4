"""Checks that Block Kit output is what Slack accepts, shared by the Slack rendering tests."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

HEADER, SECTION, FIELD, BUTTON_TEXT, BUTTON_VALUE = 150, 3000, 2000, 75, 2000


def no_nones(value: Any, path: str = "") -> None:
    """Slack rejects `null` where it expects a value; the builders must have dropped them."""
    assert value is not None, f"None at {path}"
    if isinstance(value, dict):
        for key, item in value.items():
            no_nones(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            no_nones(item, f"{path}[{index}]")


def _text(obj: dict[str, Any], limit: int) -> str:
    assert obj["type"] in {"plain_text", "mrkdwn"}
    text = obj["text"]
    assert isinstance(text, str)
    assert text.strip(), "Slack rejects empty texts"
    assert len(text) <= limit, (len(text), limit)
    return text


def _button(button: dict[str, Any]) -> None:
    assert button["type"] == "button"
    assert button["text"]["type"] == "plain_text"
    _text(button["text"], BUTTON_TEXT)
    assert len(button.get("value", "")) <= BUTTON_VALUE
    assert button.get("style") in {None, "primary", "danger"}


def check_block(block: dict[str, Any]) -> None:
    """One block within every limit, and a round trip through slack_sdk's models."""
    no_nones(block)
    parsed = Block.parse(block)
    assert parsed is not None
    assert parsed.to_dict() == block
    kind = block["type"]
    if kind == "header":
        assert block["text"]["type"] == "plain_text"
        _text(block["text"], HEADER)
    elif kind == "section":
        assert "text" in block or "fields" in block
        if "text" in block:
            _text(block["text"], SECTION)
        fields = block.get("fields", [])
        assert len(fields) <= 10
        for field in fields:
            _text(field, FIELD)
        if "accessory" in block:
            _button(block["accessory"])
    elif kind == "context":
        assert 1 <= len(block["elements"]) <= 10
        for element in block["elements"]:
            _text(element, SECTION)
    elif kind == "actions":
        buttons = block["elements"]
        assert 1 <= len(buttons) <= 25
        ids = [b["action_id"] for b in buttons]
        assert len(ids) == len(set(ids)), "action_ids repeat within a block"
        for button in buttons:
            _button(button)
    else:
        assert kind in {"divider", "input"}, kind


def check_blocks(blocks: list[dict[str, Any]], *, max_blocks: int) -> None:
    """A message's or view's blocks: each valid, and not too many."""
    assert len(blocks) <= max_blocks
    for block in blocks:
        check_block(block)


def texts_of(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text a person reads in the blocks, in order."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") in {"plain_text", "mrkdwn"}:
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(blocks)
    return found
