"""Checks that a card is what Teams accepts, shared by the Teams rendering tests.

Every card is validated against the official Adaptive Cards 1.5 JSON schema (vendored in
tests/schemas, see its README), and checked for what the schema leaves open.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator

from bot.teams.cards import CARD_BYTES, card_bytes

SCHEMA = Path(__file__).parents[1] / "schemas" / "adaptive-card-1.5.json"


@cache
def validator() -> Draft6Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


def walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in the card, the card included, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def check_card(card: dict[str, Any], *, max_bytes: int = CARD_BYTES) -> None:
    """Valid under the schema, version 1.5, within the size budget, no nulls, no empty texts,
    no `refresh`, and each input id once."""
    errors = sorted(validator().iter_errors(card), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:3]]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card_bytes(card) <= max_bytes
    assert "refresh" not in card
    ids = []
    for element in walk(card):
        assert None not in element.values(), element
        if element.get("type") == "TextBlock":
            assert element["text"].strip(), "an empty TextBlock"
        if element.get("type", "").startswith("Input."):
            ids.append(element["id"])
    assert len(ids) == len(set(ids)), ids


def texts_of(card: dict[str, Any]) -> list[str]:
    """Every text a person reads on the card, in order: blocks, facts, button titles."""
    found: list[str] = []
    for element in walk(card):
        if element.get("type") == "TextBlock":
            found.append(element["text"])
        elif element.get("type") == "FactSet":
            found += [f"{f['title']}: {f['value']}" for f in element["facts"]]
    return found


def executes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every `Action.Execute` on the card, inside show cards and sections too."""
    return [e for e in walk(card) if e.get("type") == "Action.Execute"]
