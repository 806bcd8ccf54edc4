"""The Teams app manifest and icons: valid under the official schema once filled, minimal, in
step with the command grammar, and icons that follow Teams' rules."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import UTC, datetime
from functools import cache
from types import ModuleType
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops

from bot.cli.teams import MANIFESTS, manifest_for
from tests.unit.teams_checks import MANIFEST_SCHEMA, manifest_errors
from workflows.model import RequestKind
from workflows.requests.grammar import Command, RequestDraft, parse_command

APP_ID = "8f2c1a4e-5b7d-4c3e-9a1f-2d6b8e0c4f7a"
HOST = "capdesk.example.com"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MANIFESTS / "manifest.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return manifest_for(app_id=APP_ID, host=HOST)


def test_the_filled_manifest_is_valid_under_the_official_schema(manifest: dict[str, Any]) -> None:
    assert manifest_errors(manifest) == []
    assert manifest["manifestVersion"] == "1.22"
    assert manifest["$schema"].endswith("/teams/v1.22/MicrosoftTeams.schema.json")
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (APP_ID, APP_ID)


def test_the_template_fails_the_schema_only_at_its_placeholders(template: dict[str, Any]) -> None:
    text = (MANIFESTS / "manifest.json").read_text()

    assert set(re.findall(r"\{\{([A-Z_]+)\}\}", text)) == {"APP_ID", "HOST", "VERSION"}
    assert sorted(manifest_errors(template)) == [
        f"['bots', 0, 'botId']: '{{{{APP_ID}}}}' does not match '{_guid()}'",
        f"['id']: '{{{{APP_ID}}}}' does not match '{_guid()}'",
    ]


def _guid() -> str:
    pattern: str = json.loads(MANIFEST_SCHEMA.read_text())["definitions"]["guid"]["pattern"]
    return pattern.replace("\\", "\\\\")


def test_the_bot_is_personal_and_in_teams_with_the_least_it_needs(
    manifest: dict[str, Any],
) -> None:
    [bot] = manifest["bots"]
    assert bot["scopes"] == ["personal", "team"]
    assert bot["isNotificationOnly"] is False
    assert [bot[k] for k in ("supportsFiles", "supportsCalling", "supportsVideo")] == [False] * 3
    # The roster and members come from the Bot Framework, which needs no Graph or RSC
    # permission; capdesk has no tab, so no SSO either.
    for absent in ("permissions", "devicePermissions", "webApplicationInfo", "authorization"):
        assert absent not in manifest
    assert manifest["validDomains"] == [HOST]
    assert {manifest["developer"][k] for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl")} == {
        f"https://{HOST}/"
    }


NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_the_command_list_is_the_grammar(manifest: dict[str, Any]) -> None:
    [commands] = manifest["bots"][0]["commandLists"]
    assert commands["scopes"] == ["personal"]
    parsed = [
        parse_command(c["title"], now=NOW, zone=ZoneInfo("Europe/Berlin"), longest_days=90)
        for c in commands["commands"]
    ]

    # Every title is a command as typed (Teams puts the title into the compose box), and
    # together they show every kind of command the grammar knows.
    assert {type(p) for p in parsed} == set(get_args(Command))
    drafts = [p for p in parsed if isinstance(p, RequestDraft)]
    assert {d.kind for d in drafts} == set(RequestKind)
    titles = [c["title"] for c in commands["commands"]]
    assert titles == [
        "status",
        "raise 150 for 14d release prep",
        "upgrade premium",
        "requests",
        "cancel 7",
        "help",
    ]
    assert all(c["description"].strip() for c in commands["commands"])


# --------------------------------------------------------------------------- icons


@cache
def drawing() -> ModuleType:
    """manifests/teams/icons.py, the script that draws the icons."""
    spec = importlib.util.spec_from_file_location("teams_icons", MANIFESTS / "icons.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pixels(image: Image.Image) -> list[tuple[int, ...]]:
    return [image.getpixel((x, y)) for y in range(image.height) for x in range(image.width)]


def test_the_colour_icon_is_192_square_with_its_symbol_inside_the_padding(
    manifest: dict[str, Any],
) -> None:
    icon = Image.open(MANIFESTS / manifest["icons"]["color"])

    assert (icon.size, icon.mode) == ((192, 192), "RGB")
    background = icon.getpixel((0, 0))
    assert background == tuple(int(manifest["accentColor"][i : i + 2], 16) for i in (1, 3, 5))
    symbol = ImageChops.difference(icon, Image.new("RGB", icon.size, background)).getbbox()
    assert symbol is not None
    assert min(symbol[:2]) >= 48
    assert max(symbol[2:]) <= 144


def test_the_outline_icon_is_32_square_white_on_transparent_without_padding(
    manifest: dict[str, Any],
) -> None:
    icon = Image.open(MANIFESTS / manifest["icons"]["outline"])

    assert (icon.size, icon.mode) == ((32, 32), "RGBA")
    pixels = _pixels(icon)
    assert {p[:3] for p in pixels} == {(255, 255, 255)}
    alphas = {p[3] for p in pixels}
    assert {0, 255} <= alphas
    assert icon.getchannel("A").getbbox() == (0, 0, 32, 32)


@pytest.mark.parametrize(
    ("name", "draw"), [("color.png", "color_icon"), ("outline.png", "outline_icon")]
)
def test_the_icons_are_what_the_script_draws(name: str, draw: str) -> None:
    committed = Image.open(MANIFESTS / name)
    drawn = getattr(drawing(), draw)()

    assert (drawn.size, drawn.mode) == (committed.size, committed.mode)
    # Another Pillow may round a few edge pixels differently; a changed drawing differs more.
    difference = ImageChops.difference(drawn, committed)
    assert max(high for _, high in difference.getextrema()) <= 24
