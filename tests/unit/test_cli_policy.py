"""`capdesk policy check FILE`: every problem printed with its line, its path and a sentence a
person can act on; membership checked against a named organisation; ungrouped members warned."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli.policy import Organisation, PolicyCheckContext, policy

POLICY = """\
org: {timezone: Europe/Berlin, business_hours: "08:00-20:00", currency: USD}
admins: [ana@example.com]
groups:
  - name: embedded
    owners: [dana@example.com]
    members: [ana@example.com, dana@example.com, eve@example.com, "*@firmware.example.com"]
    default_cap_usd: 85
    max_cap_usd: 400
  - name: software
    owners: [sam@example.com]
    members: [sam@example.com]
    default_cap_usd: 100
    max_cap_usd: 300
rules:
  - {id: cap-near, kind: cap_near, threshold_pct: 85, notify: [user, owners], cooldown: 24h}
  - {id: forecast, kind: forecast_overrun, notify: [owners, admins]}
"""

EVERYONE = {"ana@example.com", "dana@example.com", "eve@example.com", "sam@example.com"}
OK_LINE = "OK (2 groups, 2 rules, 1 admin)"


class Org:
    """The organisation as the composition root would offer it, counting the look-ups."""

    def __init__(self, emails: set[str], *, inactive: set[str] | frozenset[str] = frozenset()):
        self.emails = emails | inactive
        self.inactive = inactive
        self.lookups = 0

    def organisation(self) -> Organisation:
        self.lookups += 1
        return Organisation(
            name="the test org",
            people=frozenset(self.emails),
            active=frozenset(self.emails - self.inactive),
            backend="sandbox",
        )


def _check(path: Path, *args: str, org: PolicyCheckContext | None = None) -> Result:
    return CliRunner().invoke(policy, ["check", str(path), *args], obj=org)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "capdesk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_is_ok_and_says_whom_it_was_checked_against(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY)

    result = _check(path, org=Org(EVERYONE))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: {OK_LINE}, checked against the 4 people of the test org\n"
    assert result.stderr == ""


# (what is replaced, by what, the line it is on, the line printed after "FILE:LINE: ")
BROKEN = [
    pytest.param(
        "    max_cap_usd: 400\n",
        "    max_cap_usd: 400\n    colour: blue\n",
        9,
        "groups[0].colour: unknown key 'colour'",
        id="unknown-key",
    ),
    pytest.param(
        "    max_cap_usd: 400\n",
        "    max_cap_usd: 400\n    chanel: {slack: C1}\n",
        9,
        "groups[0].chanel: unknown key 'chanel' (did you mean 'channel'?)",
        id="misspelt-key",
    ),
    pytest.param(
        "cooldown: 24h}",
        "cooldown: 24h, colldown: 1h}",
        15,
        "rules[0].colldown: unknown key 'colldown' (did you mean 'cooldown'?)",
        id="misspelt-key-in-a-rule",
    ),
    pytest.param(
        "rules:",
        "digests: {schedule: '0 9 * * *'}\nrules:",
        14,
        "digests: unknown key 'digests' (did you mean 'digest'?)",
        id="misspelt-top-level-key",
    ),
    pytest.param(
        "owners: [sam@example.com]",
        "owners: [sam-at-example.com]",
        10,
        "groups[1].owners[0]: 'sam-at-example.com' is not an email address",
        id="not-an-email",
    ),
    pytest.param(
        "kind: forecast_overrun",
        "kind: forecast_underrun",
        16,
        "rules[1]: unknown kind 'forecast_underrun' (did you mean 'forecast_overrun'?); "
        "use one of cap_near, after_hours_spike, idle_seat, group_budget, forecast_overrun",
        id="unknown-kind",
    ),
    pytest.param(
        "{id: forecast, kind: forecast_overrun,",
        "{id: forecast,",
        16,
        "rules[1]: needs a kind: one of cap_near",
        id="no-kind",
    ),
    pytest.param(
        "default_cap_usd: 100",
        "default_cap_usd: -5",
        12,
        "groups[1].default_cap_usd: must be 0 or more, got -5",
        id="negative",
    ),
    pytest.param(
        "max_cap_usd: 300",
        "max_cap_usd: lots",
        13,
        "groups[1].max_cap_usd: must be a number, got 'lots'",
        id="not-a-number",
    ),
    pytest.param(
        "max_cap_usd: 300",
        "max_cap_usd: 300.125",
        13,
        "groups[1].max_cap_usd: must have at most 2 decimal places, got 300.125",
        id="fractions-of-a-cent",
    ),
    pytest.param(
        "    max_cap_usd: 300\n",
        "    max_cap_usd: 300\n    approvals_required: two\n",
        14,
        "groups[1].approvals_required: must be a whole number, got 'two'",
        id="not-a-whole-number",
    ),
    pytest.param(
        "    max_cap_usd: 300\n",
        "    max_cap_usd: 300\n    approvals_required: 9\n",
        14,
        "groups[1].approvals_required: must be 5 or less, got 9",
        id="too-many",
    ),
    pytest.param(
        "threshold_pct: 85",
        "threshold_pct: 0",
        15,
        "rules[0].threshold_pct: must be more than 0, got 0",
        id="zero-percent",
    ),
    pytest.param(
        "    default_cap_usd: 100\n",
        "",
        9,
        "groups[1].default_cap_usd: is required",
        id="missing",
    ),
    pytest.param(
        "notify: [user, owners]",
        "notify: [users, owners]",
        15,
        "rules[0].notify[0]: must be 'user', 'owners' or 'admins', got 'users'"
        " (did you mean 'user'?)",
        id="choice",
    ),
    pytest.param(
        "name: software",
        "name: Software",
        9,
        "groups[1].name: must be lowercase letters, digits, - and _, starting with a letter or"
        " digit, got 'Software'",
        id="group-name",
    ),
    pytest.param(
        "owners: [sam@example.com]",
        "owners: []",
        10,
        "groups[1].owners: must not be empty",
        id="no-owners",
    ),
    pytest.param(
        "owners: [sam@example.com]",
        "owners: sam@example.com",
        10,
        "groups[1].owners: must be a list, such as [a, b] or one '- item' per line,"
        " got 'sam@example.com'",
        id="not-a-list",
    ),
    pytest.param(
        'business_hours: "08:00-20:00"',
        "business_hours: 8",
        1,
        "org.business_hours: must be text (put it in quotes if it looks like a number), got 8",
        id="not-text",
    ),
    pytest.param(
        "timezone: Europe/Berlin",
        "timezone: Europe/Berln",
        1,
        "org.timezone: 'Europe/Berln' is not an IANA timezone such as Europe/Berlin"
        " (did you mean 'Europe/Berlin'?)",
        id="timezone",
    ),
    pytest.param(
        'org: {timezone: Europe/Berlin, business_hours: "08:00-20:00", currency: USD}',
        "org: Europe/Berlin",
        1,
        "org: must be a mapping of keys and values, got 'Europe/Berlin'",
        id="not-a-mapping",
    ),
    pytest.param(
        "    max_cap_usd: 300\n",
        "    max_cap_usd: 300\n    max_cap_usd: 500\n",
        14,
        "groups[1].max_cap_usd: given twice (first on line 13)",
        id="twice",
    ),
    pytest.param(
        "admins: [ana@example.com]",
        "admins: [ana@example.com",
        3,
        "not valid YAML at column 7: expected ',' or ']', but got ':'",
        id="yaml",
    ),
]


@pytest.mark.parametrize(("old", "new", "number", "line"), BROKEN)
def test_an_invalid_file_fails_with_the_line_the_path_and_a_sentence(
    tmp_path: Path, old: str, new: str, number: int, line: str
) -> None:
    assert old in POLICY
    path = _write(tmp_path, POLICY.replace(old, new, 1))

    result = _check(path, org=Org(EVERYONE))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:{number}: {line}"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Input should" not in result.stderr
    assert result.stdout == ""


def test_every_problem_is_listed_from_the_top_of_the_file_down(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        POLICY.replace("max_cap_usd: 300", "max_cap_usd: lots")
        .replace("owners: [dana@example.com]", "owners: [dana]")
        .replace('business_hours: "08:00-20:00"', "business_hours: late"),
    )

    result = _check(path, "--offline")

    assert result.exit_code == 1
    assert [line.split(": ")[:2] for line in result.stderr.splitlines()] == [
        [f"{path}:1", "org.business_hours"],
        [f"{path}:5", "groups[0].owners[0]"],
        [f"{path}:13", "groups[1].max_cap_usd"],
    ]


def test_an_owner_outside_the_organisation_fails_naming_the_organisation(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY.replace("dana@example.com", "x@example.com", 1))

    result = _check(path, org=Org(EVERYONE))

    assert result.exit_code == 1
    assert result.stderr == f"{path}:5: groups[0].owners[0]: x@example.com is not in the test org\n"
    assert result.stdout == ""


def test_each_member_in_no_group_is_a_warning_and_the_check_passes(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY)
    org = Org(EVERYONE | {"zed@example.com", "bob@example.com"}, inactive={"gone@example.com"})

    result = _check(path, org=org)

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"{path}: warning: {email} belongs to no group, so their requests would be refused"
        for email in ("bob@example.com", "zed@example.com")
    ]  # not the one whose seat is gone
    assert result.stdout == (
        f"{path}: {OK_LINE}, checked against the 6 people of the test org; 2 warnings\n"
    )


def test_a_member_matched_by_a_pattern_is_in_a_group(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY)

    result = _check(path, org=Org(EVERYONE | {"m1@firmware.example.com"}))

    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_offline_skips_the_organisation(tmp_path: Path) -> None:
    path = _write(tmp_path, POLICY.replace("dana@example.com", "x@example.com"))
    org = Org(EVERYONE)

    result = _check(path, "--offline", org=org)

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{path}: {OK_LINE}; not checked against the organisation (--offline)\n"
    )
    assert org.lookups == 0


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"", "the file is empty; it needs admins and groups"),
        (b"- a\n- b\n", "1: (top level): must be a mapping with org, admins and groups"),
        (b"admins: [\xff]\n", "is not UTF-8 text"),
    ],
)
def test_a_file_that_is_not_a_policy_at_all(tmp_path: Path, content: bytes, line: str) -> None:
    path = tmp_path / "capdesk.yaml"
    path.write_bytes(content)

    result = _check(path, "--offline")

    assert result.exit_code == 1
    assert line in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_missing_file_fails_with_a_line(tmp_path: Path) -> None:
    result = _check(tmp_path / "nowhere.yaml", org=Org(EVERYONE))

    assert result.exit_code == 1
    assert "nowhere.yaml: cannot read the file" in result.stderr


def test_without_an_organisation_it_asks_for_offline(tmp_path: Path) -> None:
    result = _check(_write(tmp_path, POLICY))

    assert result.exit_code == 2
    assert "--offline" in result.stderr
