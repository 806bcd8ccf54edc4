"""Checks that what capdesk gives Teams is what Teams accepts, shared by the Teams tests.

Every card is validated against the official Adaptive Cards 1.5 JSON schema (vendored in
tests/schemas), and checked for what the schema leaves open; every app manifest against the
official Teams manifest schema (vendored in manifests/teams/schema). Their READMEs name the
sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft6Validator

from bot.cli.teams import MANIFESTS
from bot.teams.cards import CARD_BYTES, card_bytes

SCHEMA = Path(__file__).parents[1] / "schemas" / "adaptive-card-1.5.json"
MANIFEST_SCHEMA = MANIFESTS / "schema" / "MicrosoftTeams.schema.json"


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


@cache
def manifest_validator() -> Draft4Validator:
    schema = json.loads(MANIFEST_SCHEMA.read_text())
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def manifest_errors(manifest: dict[str, Any]) -> list[str]:
    """Each way the manifest breaks the Teams schema, as `[path]: message`."""
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in manifest_validator().iter_errors(manifest)
    ]
