"""`capdesk teams package`, driven as a person or a script would: the zip it writes, and the
one-line refusals of bad arguments that write nothing."""

from __future__ import annotations

import io
import json
import zipfile
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bot.cli.main import cli
from bot.cli.teams import FILES, MANIFESTS, manifest_for
from tests.unit.teams_checks import manifest_errors

APP_ID = "8F2C1A4E-5B7D-4C3E-9A1F-2D6B8E0C4F7A"
HOST = "Capdesk.Example.com"


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def capdesk(*args: str) -> Result:
    return CliRunner().invoke(cli, ["teams", "package", *args])


def test_the_package_is_the_filled_manifest_and_the_icons_at_the_root(workdir: Path) -> None:
    result = capdesk("--app-id", APP_ID, "--host", HOST)

    assert result.exit_code == 0, result.stderr
    out = workdir / "capdesk-teams.zip"
    assert result.stdout == f"{out}\n"
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == list(FILES)
        manifest = json.loads(archive.read("manifest.json"))
        for icon in ("color.png", "outline.png"):
            assert archive.read(icon) == (MANIFESTS / icon).read_bytes()
    assert manifest_errors(manifest) == []
    assert "{{" not in json.dumps(manifest)
    app_id = APP_ID.lower()
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (app_id, app_id)
    assert manifest["validDomains"] == ["capdesk.example.com"]
    assert manifest["developer"]["websiteUrl"] == "https://capdesk.example.com/"
    assert manifest["version"] == version("capdesk")
    assert manifest["icons"] == {"outline": "outline.png", "color": "color.png"}


def test_the_same_arguments_give_the_same_zip(workdir: Path) -> None:
    first, second = workdir / "a.zip", workdir / "b.zip"
    for out in (first, second):
        assert capdesk("--app-id", APP_ID, "--host", HOST, "--out", str(out)).exit_code == 0

    assert first.read_bytes() == second.read_bytes()


def test_out_may_be_a_file_or_a_folder(workdir: Path) -> None:
    (workdir / "dist").mkdir()

    named = capdesk("--app-id", APP_ID, "--host", HOST, "--out", "dist/teams.zip")
    folder = capdesk("--app-id", APP_ID, "--host", HOST, "--out", "dist")

    assert named.stdout == f"{workdir / 'dist' / 'teams.zip'}\n"
    assert folder.stdout == f"{workdir / 'dist' / 'capdesk-teams.zip'}\n"
    assert sorted(p.name for p in (workdir / "dist").iterdir()) == [
        "capdesk-teams.zip",
        "teams.zip",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", HOST], "Missing option '--app-id'."),
        (["--app-id", APP_ID], "Missing option '--host'."),
        (
            ["--app-id", "capdesk", "--host", HOST],
            "Invalid value for '--app-id': must be the bot's",
        ),
        (["--app-id", "{" + APP_ID + "}", "--host", HOST], "a GUID such as"),
        (["--app-id", APP_ID[:-1], "--host", HOST], "not '8F2C1A4E-5B7D-4C3E-9A1F-2D6B8E0C4F7'"),
        (["--app-id", APP_ID, "--host", "https://capdesk.example.com"], "not a URL"),
        (["--app-id", APP_ID, "--host", "capdesk.example.com/bot"], "not a URL"),
        (["--app-id", APP_ID, "--host", "capdesk.example.com:8443"], "no port"),
        (["--app-id", APP_ID, "--host", "10.0.0.7"], "no IP address"),
        (["--app-id", APP_ID, "--host", "localhost"], "a public host name"),
        (["--app-id", APP_ID, "--host", "capdesk_bot.example.com"], "a public host name"),
        (["--app-id", APP_ID, "--host", "-capdesk.example.com"], "a public host name"),
        (["--app-id", APP_ID, "--host", "capdesk.example.com."], "a public host name"),
        (["--app-id", APP_ID, "--host", "a" * 64 + ".example.com"], "a public host name"),
        (["--app-id", APP_ID, "--host", "capdesk.exämple.com"], "a public host name"),
        (["--app-id", APP_ID, "--host", ""], "a public host name"),
        (["--app-id", APP_ID, "--host", HOST, "--bogus"], "No such option '--bogus'"),
        (["--app-id", APP_ID, "--host"], "Option '--host' requires an argument."),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(
    workdir: Path, args: list[str], message: str
) -> None:
    result = capdesk(*args)

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""
    assert list(workdir.iterdir()) == []


def test_a_folder_that_is_not_there_is_one_line_and_exit_1(workdir: Path) -> None:
    result = capdesk("--app-id", APP_ID, "--host", HOST, "--out", "missing/teams.zip")

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --out: cannot write missing/teams.zip: No such file or directory\n"
    )
    assert list(workdir.iterdir()) == []


def test_a_zip_that_cannot_be_replaced_leaves_nothing_behind(workdir: Path) -> None:
    # In the folder `taken`, the package's name is held by a folder that is not empty.
    (workdir / "taken" / "capdesk-teams.zip" / "inside").mkdir(parents=True)

    result = capdesk("--app-id", APP_ID, "--host", HOST, "--out", "taken")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --out: cannot write taken/capdesk-teams.zip: ")
    assert len(result.stderr.splitlines()) == 1
    assert [p.name for p in (workdir / "taken").iterdir()] == ["capdesk-teams.zip"]


def test_a_template_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"id": "{{APP_ID}}", "name": "{{NAME}}"}')

    with pytest.raises(click.ClickException, match=r"unknown placeholders \['\{\{NAME\}\}'\]"):
        manifest_for(app_id="x", host="y", source=tmp_path)


def test_a_missing_template_names_the_file_and_the_way_to_run(tmp_path: Path) -> None:
    with pytest.raises(click.ClickException) as refused:
        manifest_for(app_id="x", host="y", source=tmp_path)

    assert str(refused.value) == (
        f"{tmp_path / 'manifest.json'}: No such file or directory; capdesk teams package reads"
        " manifests/teams/ from a capdesk checkout (pip install -e .)"
    )


def test_the_package_unzips_as_teams_reads_it(workdir: Path) -> None:
    assert capdesk("--app-id", APP_ID, "--host", HOST).exit_code == 0

    with zipfile.ZipFile(io.BytesIO((workdir / "capdesk-teams.zip").read_bytes())) as archive:
        assert archive.testzip() is None
        assert all("/" not in name for name in archive.namelist())
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
