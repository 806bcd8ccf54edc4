"""`capdesk teams package`: the Teams app package to upload (SPEC section 3).

The package is a zip with `manifest.json`, `color.png` and `outline.png` at its root, made from
`manifests/teams/` with the placeholders filled in: `{{APP_ID}}` (the bot's Microsoft App ID),
`{{HOST}}` (the public host of `capdesk serve`) and `{{VERSION}}` (capdesk's version, so a
newer capdesk uploads as an update). Every bad argument is one line and exit status 2.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "teams"
FILES = ("manifest.json", "color.png", "outline.png")
DEFAULT_OUT = "capdesk-teams.zip"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")
_RELEASE = re.compile(r"^(?:\d+!)?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every entry's timestamp: the same arguments give the same zip, byte for byte."""


class _BadArgument(click.ClickException):
    """A usage error shown as one line, `Error: …`, with exit status 2."""

    exit_code = 2


class _OneLineErrors(click.Command):
    """Click's usage errors (a missing option, an unknown one, a bad value) as one line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _BadArgument(exc.format_message()) from None


def app_id_of(text: str) -> str:
    """The bot's Microsoft App ID, a GUID, in lower case."""
    if not _GUID.match(text):
        raise click.BadParameter(
            f"must be the bot's Microsoft App ID, a GUID such as "
            f"8f2c1a4e-5b7d-4c3e-9a1f-2d6b8e0c4f7a, not {text[:60]!r}"
        )
    return text.lower()


def host_of(text: str) -> str:
    """A bare, public DNS host name such as `capdesk.example.com`, in lower case."""
    if "://" in text or "/" in text:
        raise click.BadParameter(f"must be the bare host name, not a URL: {text[:60]!r}")
    name = text.lower()
    labels = name.split(".")
    valid = (
        len(name) <= 253
        and len(labels) >= 2
        and all(_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )
    if not valid:
        raise click.BadParameter(
            "must be a public host name such as capdesk.example.com (letters, digits, hyphens"
            f" and dots; no port, no IP address), not {text[:60]!r}"
        )
    return name


def manifest_for(*, app_id: str, host: str, source: Path = MANIFESTS) -> dict[str, Any]:
    """The manifest with every placeholder filled; raises click.ClickException if one is left
    (a template edited by hand) or the template is missing."""
    template = _read(source / "manifest.json").decode()
    filled = (
        template.replace("{{APP_ID}}", app_id)
        .replace("{{HOST}}", host)
        .replace("{{VERSION}}", _manifest_version())
    )
    left = sorted(set(_PLACEHOLDER.findall(filled)))
    if left:
        raise click.ClickException(f"{source / 'manifest.json'}: unknown placeholders {left}")
    manifest: dict[str, Any] = json.loads(filled)
    return manifest


def package_bytes(*, app_id: str, host: str, source: Path = MANIFESTS) -> bytes:
    """The zip: the filled manifest and the two icons, at its root."""
    manifest = manifest_for(app_id=app_id, host=host, source=source)
    contents = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode(),
        "color.png": _read(source / "color.png"),
        "outline.png": _read(source / "outline.png"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, contents[name])
    return buffer.getvalue()


@click.group()
def teams() -> None:
    """Microsoft Teams."""


@teams.command(cls=_OneLineErrors)
@click.option(
    "--app-id",
    required=True,
    callback=lambda _ctx, _param, value: app_id_of(value),
    help="The bot's Microsoft App ID (a GUID), from its Azure Bot registration.",
)
@click.option(
    "--host",
    required=True,
    callback=lambda _ctx, _param, value: host_of(value),
    help="The public host name of capdesk serve, such as capdesk.example.com.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=True, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="The zip to write; a folder gets capdesk-teams.zip inside it.",
)
def package(app_id: str, host: str, out: Path) -> None:
    """Write the Teams app package to upload in Teams, and print its path."""
    data = package_bytes(app_id=app_id, host=host)
    target = out / DEFAULT_OUT if out.is_dir() else out
    _write(target, data)
    click.echo(str(target.resolve()))


def _manifest_version() -> str:
    """capdesk's release as MAJOR.MINOR.PATCH, the only form Teams accepts (`0.2.0.dev1` is
    `0.2.0`)."""
    installed = version("capdesk")
    release = _RELEASE.match(installed)
    if release is None:
        raise click.ClickException(f"capdesk's version {installed!r} is not a release number")
    major, minor, patch = (int(part or 0) for part in release.groups())
    return f"{major}.{minor}.{patch}"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.ClickException(
            f"{path}: {exc.strerror or exc}; capdesk teams package reads manifests/teams/ from a"
            " capdesk checkout (pip install -e .)"
        ) from None


def _write(target: Path, data: bytes) -> None:
    """All or nothing: a failed write leaves no half zip behind."""
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".capdesk-teams-")
    except OSError as exc:
        raise click.ClickException(f"--out: cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise click.ClickException(f"--out: cannot write {target}: {exc.strerror}") from None
