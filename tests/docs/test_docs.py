"""The docs say what the code does: every policy key, setting and request state, with defaults.

A key, setting or state added to the code without its line in `docs/` (and, for settings, in
the README's table) fails here, and so does a default changed on one side only.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.settings import MICROSOFT_LOGIN_URL, Settings
from bot.teams.auth.inbound import BOT_FRAMEWORK_ISSUER
from tests.docs.markdown import DOCS, README, ROOT, Row, rows, sections, slug
from workflows.model import TRANSITIONS, RequestStatus
from workflows.policy.durations import parse_duration
from workflows.policy.model import (
    AlertRule,
    ChannelRef,
    DigestPolicy,
    GroupPolicy,
    OrgSettings,
    Policy,
    RequestsPolicy,
    SeatTier,
    TelemetryPolicy,
)

RULE_KINDS: tuple[type[BaseModel], ...] = get_args(get_args(AlertRule)[0])
BASE_RULE_KEYS = set.intersection(*(set(kind.model_fields) for kind in RULE_KINDS))

# Where docs/policy.md documents each part of the file.
POLICY_SECTIONS: dict[type[BaseModel], str] = {
    Policy: "Top level",
    OrgSettings: "`org`",
    GroupPolicy: "`groups[]`",
    ChannelRef: "`admin_channel` and `groups[].channel`",
    RequestsPolicy: "`requests`",
    DigestPolicy: "`digest`",
    TelemetryPolicy: "`telemetry`",
    SeatTier: "`seat_tiers`",
}
EVERY_RULE = "Every rule"


def nested_models(annotation: Any) -> set[type[BaseModel]]:
    """The models inside a field's type: `X`, `X | None`, `list[X]`, a union of rules."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    found: set[type[BaseModel]] = set()
    for argument in get_args(annotation):
        found |= nested_models(argument)
    return found


def policy_models() -> set[type[BaseModel]]:
    """Every model reachable from the policy's top level."""
    seen: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = [Policy]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            todo += nested_models(field.annotation)
    return seen


def kind_of(rule: type[BaseModel]) -> str:
    (kind,) = get_args(rule.model_fields["kind"].annotation)
    return str(kind)


def documented(model: type[BaseModel]) -> tuple[str, set[str]]:
    """The heading that documents `model`, and the keys its table must have."""
    if model in RULE_KINDS:
        return f"`kind: {kind_of(model)}`", set(model.model_fields) - BASE_RULE_KEYS
    assert model in POLICY_SECTIONS, f"{model.__name__} needs a section in docs/policy.md"
    return POLICY_SECTIONS[model], set(model.model_fields)


def shown_default(field: FieldInfo) -> list[str]:
    """How a default must appear in a table's default column: its code spans."""
    default = field.default
    if default is None or default == [] or isinstance(default, BaseModel):
        return []
    if isinstance(default, bool):
        return [str(default).lower()]
    if isinstance(default, list | dict):
        return [str(item) for item in default]
    return [str(default)]


def durations_in(code: str) -> timedelta | None:
    try:
        return parse_duration(code)
    except ValueError:
        return None


def literal_values(annotation: Any) -> list[str]:
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    if get_origin(annotation) in (Union, type(int | None)):
        return [value for argument in get_args(annotation) for value in literal_values(argument)]
    return []


def check_row(row: Row, field: FieldInfo, *, default_column: int, where: str) -> None:
    cell = row.cells[default_column]
    if field.is_required() or field.default is PydanticUndefined:
        assert "required" in cell, f"{where}: {row.key} is required, says {cell!r}"
        return
    if isinstance(field.default, timedelta):
        durations = [durations_in(code) for code in row.codes(default_column)]
        assert field.default in durations, f"{where}: {row.key} defaults to {field.default}"
        return
    for text in shown_default(field):
        assert text in row.codes(default_column), f"{where}: {row.key} defaults to {text!r}"
    if not shown_default(field) and field.default is None:
        assert "none" in cell or "unset" in cell, f"{where}: {row.key} has no default: {cell!r}"


def policy_doc() -> dict[str, str]:
    return sections((DOCS / "policy.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("model", sorted(policy_models(), key=lambda m: m.__name__))
def test_every_policy_key_is_documented_with_its_type_and_default(
    model: type[BaseModel],
) -> None:
    heading, keys = documented(model)
    body = policy_doc().get(heading)
    assert body is not None, f"docs/policy.md has no section {heading!r} for {model.__name__}"
    table = {row.key: row for row in rows(body)}
    assert set(table) == keys, f"docs/policy.md, {heading}"
    for key in keys:
        check_row(table[key], model.model_fields[key], default_column=2, where=heading)
        assert table[key].cells[3], f"{heading}: say what {key} means"


def test_the_keys_every_rule_has_are_documented_once() -> None:
    table = {row.key: row for row in rows(policy_doc()[EVERY_RULE])}
    assert set(table) == BASE_RULE_KEYS
    some_rule = RULE_KINDS[0]
    for key in BASE_RULE_KEYS - {"kind"}:
        check_row(table[key], some_rule.model_fields[key], default_column=2, where=EVERY_RULE)


def settings_rows() -> dict[str, Row]:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    return {row.key: row for row in rows(sections(text)["Every setting"])}


def variables() -> dict[str, FieldInfo]:
    return {str(field.validation_alias): field for field in Settings.model_fields.values()}


def test_every_setting_is_documented_with_its_values_and_default() -> None:
    table = settings_rows()
    assert set(table) == set(variables()), "docs/configuration.md, Every setting"
    for name, field in variables().items():
        row = table[name]
        check_row(row, field, default_column=2, where="docs/configuration.md")
        for value in literal_values(field.annotation):
            assert value in row.codes(1), f"{name}: the values column lacks {value!r}"


def test_every_setting_is_in_the_readme_table() -> None:
    table = sections(README.read_text(encoding="utf-8"))["Configuration"]
    named = {code for row in rows(table) for code in row.codes(0)}
    assert set(variables()) <= named, set(variables()) - named


def test_every_request_state_and_move_is_documented() -> None:
    body = sections((DOCS / "requests.md").read_text(encoding="utf-8"))["States"]
    table = {row.key: row for row in rows(body)}
    assert set(table) == {status.value for status in RequestStatus}
    for status, moves in TRANSITIONS.items():
        row = table[status.value]
        assert row.codes(2) == {move.value for move in moves}, status
        if not moves:
            assert "final" in row.cells[2], status


# -- links -----------------------------------------------------------------------------------

SHIPPED_PROSE = sorted([README, *DOCS.glob("*.md"), ROOT / "benchmarks" / "README.md"])
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)|<([a-z]+:[^>\s]+)>")
_URL = re.compile(r"https?://[^\s`'\")>|\]]+")
_CODE_SPAN = re.compile(r"`[^`\n]+`")
# Addresses that are no links to follow: this machine, a placeholder for the reader's own host.
_PLACEHOLDERS = ("http://127.0.0.1", "http://localhost", "https://YOUR-HOST")
# Values of a protocol that happen to be URLs (a token's issuer, the login host of a tenant).
_PROTOCOL_VALUES = (MICROSOFT_LOGIN_URL, BOT_FRAMEWORK_ISSUER)


def allowed_urls() -> set[str]:
    """The defaults of URL settings: written out as values, not as links to follow."""
    return {
        str(field.default)
        for field in Settings.model_fields.values()
        if isinstance(field.default, str) and field.default.startswith("http")
    }


@pytest.mark.parametrize("document", SHIPPED_PROSE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_readme_and_docs_link_only_inside_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    # Markdown written inside a code span is shown as typed, not followed.
    for match in _LINK.finditer(_CODE_SPAN.sub("", text)):
        target = match.group(1) or match.group(2)
        assert not re.match(r"[a-z]+:|//", target), f"{document.name} links outside: {target}"
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.is_relative_to(ROOT), f"{document.name}: {target} leaves the repository"
        assert linked.exists(), f"{document.name}: {target} does not exist"
        if anchor and linked.suffix == ".md":
            anchors = {slug(title) for title in sections(linked.read_text(encoding="utf-8"))}
            assert anchor in anchors, f"{document.name}: no heading for #{anchor} in {path}"
    for url in _URL.findall(text):
        assert url.startswith((*_PLACEHOLDERS, *_PROTOCOL_VALUES)) or url in allowed_urls(), (
            f"{document.name} names {url}; say it in words, the repository stands alone"
        )
