"""`capdesk policy check FILE`: every problem printed with its path; membership checked online."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli.policy import PolicyCheckContext, policy

POLICY = """\
org: {timezone: Europe/Berlin, business_hours: "08:00-20:00", currency: USD}
admins: [ana@example.com]
groups:
  - name: embedded
    owners: [dana@example.com]
    members: [eve@example.com, "*@firmware.example.com"]
    default_cap_usd: 85
    max_cap_usd: 400
  - name: software
    owners: [sam@example.com]
    default_cap_usd: 100
    max_cap_usd: 300
rules:
  - {id: cap-near, kind: cap_near, threshold_pct: 85, notify: [user, owners], cooldown: 24h}
  - {id: forecast, kind: forecast_overrun, notify: [owners, admins]}
"""

EVERYONE = {"ana@example.com", "dana@example.com", "eve@example.com", "sam@example.com"}


class Org:
    """The organisation as the composition root would offer it, counting the look-ups."""

    def __init__(self, emails: set[str]) -> None:
        self.emails = emails
        self.lookups = 0

    def known_emails(self) -> set[str]:
        self.lookups += 1
        return self.emails


def _check(path: Path, *args: str, org: PolicyCheckContext | None = None) -> Result:
    return CliRunner().invoke(policy, ["check", str(path), *args], obj=org)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "capdesk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_is_ok(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY)

    result = _check(path, org=Org(EVERYONE))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: OK (2 groups, 2 rules, 1 admins)\n"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            "    max_cap_usd: 400\n",
            "    max_cap_usd: 400\n    colour: blue\n",
            "groups[0].colour: unknown key",
        ),
        (
            "owners: [sam@example.com]",
            "owners: [sam-at-example.com]",
            "groups[1].owners[0]: 'sam-at-example.com' is not an email address",
        ),
        (
            "kind: forecast_overrun",
            "kind: forecast_underrun",
            "rules[1]: unknown kind; use one of",
        ),
        (
            "admins: [ana@example.com]",
            "admins: [ana@example.com",
            ": not valid YAML",
        ),
    ],
)
def test_an_invalid_file_fails_naming_the_path(
    tmp_path: Path, old: str, new: str, line: str
) -> None:
    assert old in POLICY
    path = _write(tmp_path, POLICY.replace(old, new))

    result = _check(path, org=Org(EVERYONE))

    assert result.exit_code == 1
    assert f"{path}: " in result.stderr
    assert line in result.stderr
    assert result.stdout == ""


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        POLICY.replace("owners: [dana@example.com]", "owners: [dana]").replace(
            "max_cap_usd: 300", "max_cap_usd: lots"
        ),
    )

    result = _check(path, "--offline")

    assert result.exit_code == 1
    assert [line.split(": ")[1] for line in result.stderr.splitlines()] == [
        "groups[0].owners[0]",
        "groups[1].max_cap_usd",
    ]


def test_an_owner_outside_the_organisation_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY.replace("dana@example.com", "x@example.com"))

    result = _check(path, org=Org(EVERYONE))

    assert result.exit_code == 1
    assert (
        result.stderr == f"{path}: groups[0].owners[0]: x@example.com is not in the organisation\n"
    )


def test_offline_skips_the_membership_check(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY.replace("dana@example.com", "x@example.com"))
    org = Org(EVERYONE)

    result = _check(path, "--offline", org=org)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: OK (2 groups, 2 rules, 1 admins)\n"
    assert org.lookups == 0


def test_a_missing_file_fails_with_a_line(tmp_path: Path) -> None:
    result = _check(tmp_path / "nowhere.yaml", org=Org(EVERYONE))

    assert result.exit_code == 1
    assert "nowhere.yaml: cannot read the file" in result.stderr


def test_without_an_organisation_it_asks_for_offline(tmp_path: Path) -> None:
    result = _check(_write(tmp_path, POLICY))

    assert result.exit_code == 2
    assert "--offline" in result.stderr
