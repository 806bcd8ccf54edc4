"""The `capdesk` command line, driven as a person or a script would (SPEC sections 2 and 3).

Every command goes through `bot.cli.main:cli` with its settings in environment variables and
an empty temporary working directory, so no `./capdesk.db`, `./capdesk.yaml` or `./.env`
leaks in or out. Syncing the sandbox takes seconds, so it happens once: later tests start from
a copy of that synced database.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, text

from bot.bootstrap import bootstrap
from bot.cli.main import cli
from bot.settings import load_settings
from store.engine import make_engine
from store.migrate import head
from tests.now import AT, NOW, ZONE
from tests.postgres import fresh_schema
from workflows.clock import ManualClock
from workflows.commands import run_command
from workflows.model import Verdict
from workflows.requests.deciding import decide

GROUPS = ["electronics", "embedded", "software", "systems", "project-management"]
SANDBOX_PEOPLE = 121  # the sandbox org of seed 7
EVE, DANA, TOM, SAM, RAVI = (
    "eve.novak@example.com",
    "dana.okafor@example.com",
    "tom.becker@example.com",
    "sam.ortiz@example.com",
    "ravi.menon@example.com",
)

# Settings and terminal variables of the person running the tests must not reach capdesk.
_OUTSIDE = ("CAPDESK_", "SLACK_", "MICROSOFT_", "ANTHROPIC_", "LITELLM_")
_TERMINAL = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")

POLICY = """\
org: {timezone: Europe/Berlin, business_hours: "08:00-20:00", currency: USD}
admins: [ana.lima@example.com]
groups:
  - name: embedded
    owners: [dana.okafor@example.com]
    members: [eve.novak@example.com, "*@firmware.example.com"]
    default_cap_usd: 85
    max_cap_usd: 400
  - name: software
    owners: [sam.ortiz@example.com, lea.brandt@example.com]
    default_cap_usd: 150
    max_cap_usd: 300
rules:
  - {id: cap-near, kind: cap_near, threshold_pct: 85, notify: [user, owners], cooldown: 24h}
"""


def _clean_environment(mp: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_OUTSIDE) or name in _TERMINAL:
            mp.delenv(name)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and none of the caller's capdesk settings."""
    _clean_environment(monkeypatch)
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def capdesk(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """`capdesk ARGS` with these environment variables (wide, so tables are not cut), at the
    tests' pinned instant unless `env` says otherwise."""
    return CliRunner(env={"COLUMNS": "250", "CAPDESK_NOW": AT, **(env or {})}).invoke(
        cli, list(args)
    )


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output + result.stderr
    return result


def table_rows(output: str) -> list[list[str]]:
    """The body rows of a rich table: the cells of every `│ a │ b │` line."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


@dataclass
class Totals:
    members: int
    daily_rows: int
    daily_cents: int
    hourly_rows: int
    hourly_cents: int


def totals(path: Path) -> Totals:
    with sqlite3.connect(path) as connection:
        members = connection.execute("SELECT count(*) FROM member").fetchone()[0]
        daily = connection.execute("SELECT count(*), sum(spend_cents) FROM usage_daily").fetchone()
        hourly = connection.execute(
            "SELECT count(*), sum(spend_cents) FROM usage_hourly"
        ).fetchone()
    connection.close()
    return Totals(members, daily[0], daily[1] or 0, hourly[0], hourly[1] or 0)


def copy_database(source: Path, target: Path) -> str:
    """A consistent copy of a SQLite database (WAL included), as a URL."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return sqlite_url(target)


@dataclass
class Synced:
    path: Path
    output: str
    totals: Totals


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Synced:
    """One `capdesk sync` into a fresh SQLite database."""
    folder = tmp_path_factory.mktemp("synced")
    path = folder / "capdesk.db"
    with pytest.MonkeyPatch.context() as mp:
        _clean_environment(mp)
        mp.chdir(folder)
        result = ok(capdesk("sync", env={"CAPDESK_DATABASE_URL": sqlite_url(path)}))
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("capdesk.db")) == []
    return Synced(path, result.output, totals(path))


@pytest.fixture
def synced_url(synced: Synced, tmp_path: Path) -> str:
    """A copy of the synced database for this test alone."""
    return copy_database(synced.path, tmp_path / "synced.db")


# --- capdesk sync -------------------------------------------------------------------------------

SYNCED_LINE = re.compile(
    r"^Synced (\d+) members \((\d+) deactivated\),"
    r" ([\d,]+) daily and ([\d,]+) hourly usage rows\.$",
    re.MULTILINE,
)


def _counts(output: str) -> tuple[int, int, int, int]:
    found = SYNCED_LINE.search(output)
    assert found, output
    members, deactivated, daily, hourly = (int(g.replace(",", "")) for g in found.groups())
    return members, deactivated, daily, hourly


def test_sync_prints_the_members_and_usage_rows_it_wrote(synced: Synced) -> None:
    members, deactivated, daily, hourly = _counts(synced.output)
    assert members == synced.totals.members == SANDBOX_PEOPLE
    assert deactivated == 0
    assert daily == synced.totals.daily_rows > 0
    assert hourly == synced.totals.hourly_rows > 0
    assert synced.totals.daily_cents > 0
    assert synced.totals.hourly_cents > 0


def test_sync_twice_gives_the_same_totals(synced: Synced, synced_url: str, tmp_path: Path) -> None:
    again = ok(capdesk("sync", env={"CAPDESK_DATABASE_URL": synced_url}))

    assert _counts(again.output) == _counts(synced.output)
    assert totals(tmp_path / "synced.db") == synced.totals  # same spend, nothing doubled


# --- capdesk members list -----------------------------------------------------------------------


def _month_to_date_cents(path: Path) -> int:
    first = NOW.astimezone(ZONE).date().replace(day=1)
    with sqlite3.connect(path) as connection:
        (cents,) = connection.execute(
            "SELECT coalesce(sum(spend_cents), 0) FROM usage_daily WHERE day >= ?",
            (first.isoformat(),),
        ).fetchone()
    connection.close()
    return int(cents)


def test_members_list_on_a_fresh_database_syncs_first(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    assert not path.exists()

    result = ok(
        capdesk(
            "members", "list", "--at", AT, "--json", env={"CAPDESK_DATABASE_URL": sqlite_url(path)}
        )
    )

    people = json.loads(result.stdout)
    assert len(people) == SANDBOX_PEOPLE
    assert totals(path).members == SANDBOX_PEOPLE  # the sandbox was synced into the store
    assert totals(path).daily_rows > 0
    assert {p["group"] for p in people} == set(GROUPS)
    assert len({p["email"] for p in people}) == SANDBOX_PEOPLE
    for person in people:
        assert set(person) >= {"email", "name", "group", "tier", "cap_usd", "spent_usd", "used_pct"}
        assert person["tier"] in {"standard", "premium"}
        assert person["cap_usd"] > 0
        assert person["spent_usd"] >= 0
        # Rounded down, as everywhere (workflows.money.percent_of).
        spent, cap = round(person["spent_usd"] * 100), round(person["cap_usd"] * 100)
        assert person["used_pct"] == spent * 100 // cap
    eve = next(p for p in people if p["email"] == EVE)
    assert (eve["name"], eve["group"], eve["tier"], eve["cap_usd"]) == (
        "Eve Novak",
        "embedded",
        "standard",
        85,
    )
    # Month-to-date spend: what the store holds since the first of this month.
    spent = round(sum(p["spent_usd"] for p in people) * 100)
    assert spent == _month_to_date_cents(path)


def test_members_list_for_one_group(synced_url: str) -> None:
    env = {"CAPDESK_DATABASE_URL": synced_url}
    everyone = json.loads(ok(capdesk("members", "list", "--at", AT, "--json", env=env)).stdout)
    embedded = [p for p in everyone if p["group"] == "embedded"]
    assert 10 < len(embedded) < len(everyone)

    as_json = json.loads(
        ok(capdesk("members", "list", "--at", AT, "--group", "embedded", "--json", env=env)).stdout
    )
    assert as_json == embedded

    table = ok(capdesk("members", "list", "--at", AT, "--group", "embedded", env=env)).stdout
    assert f"Members (embedded), {len(embedded)}" in table
    rows = table_rows(table)
    assert len(rows) == len(embedded)
    assert {row[2] for row in rows} == {"embedded"}  # the Group column of every row
    assert {row[1] for row in rows} == {p["email"] for p in embedded}
    eve = next(row for row in rows if row[1] == EVE)
    assert eve[:5] == ["Eve Novak", EVE, "embedded", "standard", "$85"]
    assert eve[5].startswith("$")


def test_members_list_for_an_unknown_group_is_a_usage_error(synced_url: str) -> None:
    result = capdesk(
        "members",
        "list",
        "--at",
        AT,
        "--group",
        "firmware",
        env={"CAPDESK_DATABASE_URL": synced_url},
    )

    assert result.exit_code == 2
    assert "no group 'firmware'" in result.stderr
    assert "the groups are " + ", ".join(GROUPS) in result.stderr
    assert result.stdout == ""


# --- capdesk requests list ----------------------------------------------------------------------


@dataclass
class Requests:
    url: str
    pending: int
    approved: int
    denied: int


@pytest.fixture(scope="module")
def requests_db(synced: Synced, tmp_path_factory: pytest.TempPathFactory) -> Requests:
    """One request pending (Eve), one approved by the policy (Ravi), one denied (Tom)."""
    folder = tmp_path_factory.mktemp("requests")
    url = copy_database(synced.path, folder / "capdesk.db")
    with pytest.MonkeyPatch.context() as mp:
        _clean_environment(mp)
        mp.chdir(folder)
        app = bootstrap(load_settings({"CAPDESK_DATABASE_URL": url}), clock=ManualClock(NOW))
    now = app.clock.now() - timedelta(minutes=10)

    def ask(email: str, command: str, minutes: int) -> int:
        run_command(
            app.uow, app.policy, email=email, text=command, now=now + timedelta(minutes=minutes)
        )
        with app.uow() as uow:
            return uow.requests.list(requester=email)[0].id

    pending = ask(EVE, "raise 150 for 14d release prep: flashing and HIL test runs", 1)
    approved = ask(RAVI, "raise 20 for 7d board bring-up", 2)
    denied = ask(TOM, "upgrade premium for 30d profiling the build cache", 3)
    decide(
        app.uow(),
        app.policy,
        request_id=denied,
        actor=SAM,
        verdict=Verdict.DENY,
        now=now + timedelta(minutes=4),
        note="Use the shared profiling seat",
    )
    app.engine.dispose()
    return Requests(url, pending, approved, denied)


def test_requests_list_shows_every_request(requests_db: Requests) -> None:
    result = ok(capdesk("requests", "list", env={"CAPDESK_DATABASE_URL": requests_db.url}))

    assert "Requests (all)" in result.stdout
    rows = {row[0]: row for row in table_rows(result.stdout)}
    assert set(rows) == {
        str(requests_db.pending),
        str(requests_db.approved),
        str(requests_db.denied),
    }
    # Columns: # | Requester | Group | What | Until | Status | Decided by | Reason
    eve = rows[str(requests_db.pending)]
    assert eve[1:4] == [EVE, "embedded", "+$150 a month ($85 → $235)"]
    assert (eve[5], eve[6], eve[7]) == ("pending", "", "release prep: flashing and HIL test runs")
    assert eve[4]  # the end of the temporary grant
    ravi, tom = rows[str(requests_db.approved)], rows[str(requests_db.denied)]
    assert (ravi[1], ravi[5], ravi[6]) == (RAVI, "approved", "policy")
    assert (tom[1], tom[3], tom[5], tom[6]) == (TOM, "premium seat (now standard)", "denied", SAM)


def test_requests_list_filters_by_status(requests_db: Requests) -> None:
    env = {"CAPDESK_DATABASE_URL": requests_db.url}

    table = ok(capdesk("requests", "list", "--status", "pending", env=env)).stdout
    assert "Requests (pending)" in table
    assert [(row[0], row[1], row[5]) for row in table_rows(table)] == [
        (str(requests_db.pending), EVE, "pending")
    ]

    denied = json.loads(
        ok(capdesk("requests", "list", "--status", "denied", "--json", env=env)).stdout
    )
    assert [(r["id"], r["status"]) for r in denied] == [(requests_db.denied, "denied")]

    cancelled = ok(capdesk("requests", "list", "--status", "cancelled", "--json", env=env))
    assert json.loads(cancelled.stdout) == []
    none = ok(capdesk("requests", "list", "--status", "expired", env=env))
    assert none.stdout.strip() == "Requests (expired): none."


def test_requests_list_as_json(requests_db: Requests) -> None:
    result = ok(
        capdesk("requests", "list", "--json", env={"CAPDESK_DATABASE_URL": requests_db.url})
    )

    found = json.loads(result.stdout)
    # Newest first.
    assert [(r["id"], r["requester"], r["status"]) for r in found] == [
        (requests_db.denied, TOM, "denied"),
        (requests_db.approved, RAVI, "approved"),
        (requests_db.pending, EVE, "pending"),
    ]
    by_id = {r["id"]: r for r in found}
    eve = by_id[requests_db.pending]
    assert eve["what"] == "+$150 a month ($85 → $235)"
    assert (eve["group"], eve["kind"], eve["decided_by"]) == ("embedded", "cap_increase", None)
    assert by_id[requests_db.approved]["decided_by"] == "policy"
    assert by_id[requests_db.denied]["decided_by"] == SAM
    assert by_id[requests_db.denied]["kind"] == "seat_upgrade"
    for request in found:
        created = datetime.fromisoformat(request["created_at"])
        ends = datetime.fromisoformat(request["ends_at"])
        assert created.utcoffset() is not None
        assert ends.utcoffset() is not None
        assert ends > created
    assert datetime.fromisoformat(eve["ends_at"]) - datetime.fromisoformat(
        eve["created_at"]
    ) == timedelta(days=14)
    # The sentence's parts, as fields: kind, amounts, caps, until, state, who decided and when.
    assert (eve["amount_usd"], eve["cap_before_usd"], eve["cap_after_usd"]) == (150, 85, 235)
    assert (eve["tier_before"], eve["tier_after"], eve["status"]) == ("standard", None, "pending")
    assert eve["until"] == (
        (datetime.fromisoformat(eve["ends_at"]) - timedelta(microseconds=1))
        .astimezone(ZoneInfo("Europe/Berlin"))
        .date()
        .isoformat()
    )
    assert (eve["decided_by"], eve["decided_at"], eve["decision_note"]) == (None, None, None)
    tom = by_id[requests_db.denied]
    assert (tom["amount_usd"], tom["cap_before_usd"], tom["cap_after_usd"]) == (None, None, None)
    assert (tom["tier_before"], tom["tier_after"]) == ("standard", "premium")
    assert tom["decision_note"] == "Use the shared profiling seat"
    assert datetime.fromisoformat(tom["decided_at"]) > datetime.fromisoformat(tom["created_at"])
    ravi = by_id[requests_db.approved]
    assert (ravi["amount_usd"], ravi["decided_by"]) == (20, "policy")
    assert ravi["decided_at"] == ravi["created_at"]


def test_requests_list_with_an_unknown_status_is_a_usage_error(requests_db: Requests) -> None:
    result = capdesk(
        "requests", "list", "--status", "waiting", env={"CAPDESK_DATABASE_URL": requests_db.url}
    )

    assert result.exit_code == 2
    assert "Invalid value for '--status'" in result.stderr
    assert "'pending'" in result.stderr
    assert result.stdout == ""


# --- capdesk db upgrade -------------------------------------------------------------------------


def test_db_upgrade_on_a_fresh_sqlite_file_then_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    env = {"CAPDESK_DATABASE_URL": sqlite_url(path)}

    first = ok(capdesk("db", "upgrade", env=env))
    assert first.stdout == f"Upgraded the database from empty to {head()} (head {head()}).\n"
    with sqlite3.connect(path) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert revision == head()
    assert {"member", "request", "usage_daily", "audit_log"} <= tables

    second = ok(capdesk("db", "upgrade", env=env))
    assert second.stdout == f"The database is up to date (revision {head()}).\n"


def test_db_upgrade_on_an_unreachable_database_names_the_setting(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "no-such-folder" / "capdesk.db")

    result = capdesk("db", "upgrade", env={"CAPDESK_DATABASE_URL": url})

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr == (
        "Error: cannot open the database: unable to open database file"
        f" (CAPDESK_DATABASE_URL={url})\n"
    )


@pytest.fixture
def postgres_schema(postgres_server: Engine) -> Iterator[tuple[str, str]]:
    """A new, empty PostgreSQL schema and a URL that lands in it; dropped afterwards."""
    with fresh_schema(postgres_server, "capdesk_e2e") as made:
        yield made


def test_db_upgrade_on_postgresql(postgres_schema: tuple[str, str]) -> None:
    schema, url = postgres_schema
    env = {"CAPDESK_DATABASE_URL": url}

    # Unlike SQLite, PostgreSQL is not migrated behind one's back: the commands say what to do.
    refused = capdesk("requests", "list", env=env)
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: the database is empty, the code needs {head()}: run `capdesk db upgrade`"
        f" (CAPDESK_DATABASE_URL={url})\n"
    )

    first = ok(capdesk("db", "upgrade", env=env))
    assert first.stdout == f"Upgraded the database from empty to {head()} (head {head()}).\n"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(
                connection.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                    ),
                    {"s": schema},
                ).scalars()
            )
    finally:
        engine.dispose()
    assert {"alembic_version", "member", "request", "usage_daily", "audit_log"} <= tables

    second = ok(capdesk("db", "upgrade", env=env))
    assert second.stdout == f"The database is up to date (revision {head()}).\n"
    assert json.loads(ok(capdesk("requests", "list", "--json", env=env)).stdout) == []


# --- capdesk policy check -----------------------------------------------------------------------


def test_policy_check_looks_people_up_in_the_sandbox_org(tmp_path: Path, workdir: Path) -> None:
    env = {"CAPDESK_DATABASE_URL": sqlite_url(tmp_path / "capdesk.db")}
    good = workdir / "policy.yaml"
    good.write_text(POLICY, encoding="utf-8")

    result = ok(capdesk("policy", "check", str(good), env=env))
    warnings = result.stderr.splitlines()
    assert result.stdout == (
        f"{good}: OK (2 groups, 1 rule, 1 admin), checked against the {SANDBOX_PEOPLE} people"
        f" of the sandbox org (seed 7); {len(warnings)} warnings\n"
    )
    # The sandbox's people outside embedded and software, each named once.
    assert 0 < len(warnings) < SANDBOX_PEOPLE
    assert all(
        re.fullmatch(rf"{good}: warning: \S+@\S+ belongs to no group, .*", w) for w in warnings
    )
    assert f"{good}: warning: {RAVI} belongs to no group" in result.stderr
    assert EVE not in result.stderr

    bad = workdir / "bad.yaml"
    bad.write_text(POLICY.replace("dana.okafor@example.com", "dana@elsewhere.example"), "utf-8")
    result = capdesk("policy", "check", str(bad), env=env)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"{bad}:5: groups[0].owners[0]: dana@elsewhere.example is not in the sandbox org (seed 7)"
    )
    assert result.stdout == ""
    assert not (tmp_path / "capdesk.db").exists()  # no database was created
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.yaml", "policy.yaml"]


@pytest.mark.parametrize("where", ["capdesk.yaml", "CAPDESK_POLICY_FILE"])
def test_policy_check_checks_the_file_it_is_given_not_the_configured_one(
    where: str, workdir: Path
) -> None:
    broken = workdir / ("capdesk.yaml" if where == "capdesk.yaml" else "broken.yaml")
    broken.write_text(POLICY.replace("max_cap_usd: 400", "max_cap_usd: lots"), "utf-8")
    fixed = workdir / "fixed.yaml"
    fixed.write_text(POLICY, encoding="utf-8")
    env = {"CAPDESK_POLICY_FILE": str(broken)} if where != "capdesk.yaml" else {}

    result = ok(capdesk("policy", "check", str(fixed), env=env))

    assert result.stdout.startswith(f"{fixed}: OK (2 groups, 1 rule, 1 admin), checked against")
    assert str(broken) not in result.output + result.stderr
    assert "capdesk.db" not in {p.name for p in workdir.iterdir()}  # no database was created

    failed = capdesk("policy", "check", str(broken), env=env)
    assert failed.exit_code == 1
    assert failed.stderr == f"{broken}:8: groups[0].max_cap_usd: must be a number, got 'lots'\n"


def test_policy_check_offline_needs_neither_settings_nor_database(workdir: Path) -> None:
    path = workdir / "policy.yaml"
    path.write_text(POLICY.replace("dana.okafor@example.com", "dana@elsewhere.example"), "utf-8")

    result = ok(capdesk("policy", "check", "--offline", str(path), env={"CAPDESK_HTTP_PORT": "x"}))

    assert result.stdout == (
        f"{path}: OK (2 groups, 1 rule, 1 admin);"
        " not checked against the organisation (--offline)\n"
    )
    assert sorted(p.name for p in workdir.iterdir()) == ["policy.yaml"]


# --- bad settings -------------------------------------------------------------------------------

PORT_LINE = "CAPDESK_HTTP_PORT: must be an integer from 1 to 65535, got 'abc'"
KEY_LINE = "ANTHROPIC_ADMIN_KEY: must be set when CAPDESK_ADMIN_BACKEND=anthropic"
URL_LINE = (
    "CAPDESK_DATABASE_URL: must be a SQLAlchemy URL starting with sqlite or postgresql,"
    " got 'mysql://x'"
)


@pytest.mark.parametrize(
    ("env", "args", "line"),
    [
        pytest.param(
            {"CAPDESK_HTTP_PORT": "abc"}, ["members", "list", "--at", AT], PORT_LINE, id="port"
        ),
        pytest.param({"CAPDESK_HTTP_PORT": "abc"}, ["sync"], PORT_LINE, id="port-sync"),
        pytest.param(
            {"CAPDESK_ADMIN_BACKEND": "anthropic"},
            ["members", "list", "--at", AT],
            KEY_LINE,
            id="no-key",
        ),
        pytest.param(
            {"CAPDESK_DATABASE_URL": "mysql://x"},
            ["members", "list", "--at", AT],
            URL_LINE,
            id="mysql",
        ),
        pytest.param(
            {"CAPDESK_DATABASE_URL": "mysql://x"}, ["db", "upgrade"], URL_LINE, id="mysql-db"
        ),
        pytest.param(
            {"CAPDESK_DATABASE_URL": "mysql://x"}, ["requests", "list"], URL_LINE, id="mysql-req"
        ),
    ],
)
def test_a_bad_setting_stops_with_one_line_naming_it(
    env: dict[str, str], args: list[str], line: str, workdir: Path
) -> None:
    result = capdesk(*args, env=env)

    assert result.exit_code == 1
    assert result.stderr == f"Error: {line}\n"
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert list(workdir.iterdir()) == []  # nothing was created


def test_a_password_in_a_bad_database_url_is_not_shown() -> None:
    result = capdesk(
        "members",
        "list",
        "--at",
        AT,
        env={"CAPDESK_DATABASE_URL": "mysql://capdesk:hunter2@db/capdesk"},
    )

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: CAPDESK_DATABASE_URL: ")
    assert "hunter2" not in result.stderr
    assert "***" in result.stderr


def test_a_bad_setting_in_dot_env_is_named_too(workdir: Path) -> None:
    (workdir / ".env").write_text("CAPDESK_HTTP_PORT=abc\n", encoding="utf-8")

    result = capdesk("members", "list", "--at", AT)

    assert result.exit_code == 1
    assert result.stderr == f"Error: {PORT_LINE}\n"


def test_a_malformed_capdesk_yaml_stops_with_every_error_and_its_path(workdir: Path) -> None:
    broken = (
        POLICY.replace("    max_cap_usd: 400\n", "    max_cap_usd: 400\n    colour: blue\n")
        .replace("sam.ortiz@example.com", "sam-at-example.com")
        .replace("kind: cap_near", "kind: cap_far")
    )
    (workdir / "capdesk.yaml").write_text(broken, encoding="utf-8")

    result = capdesk(
        "members", "list", "--at", AT, env={"CAPDESK_DATABASE_URL": sqlite_url(workdir / "x.db")}
    )

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.removeprefix("Error: ").splitlines()
    assert all(re.match(r"capdesk\.yaml:\d+: ", line) for line in lines), lines
    assert lines == [
        "capdesk.yaml:9: groups[0].colour: unknown key 'colour'",
        "capdesk.yaml:11: groups[1].owners[0]: 'sam-at-example.com' is not an email address",
        "capdesk.yaml:15: rules[0]: unknown kind 'cap_far' (did you mean 'cap_near'?); use one of"
        " cap_near, after_hours_spike, idle_seat, group_budget, forecast_overrun",
    ]
    assert list(workdir.iterdir()) == [workdir / "capdesk.yaml"]  # no database was created


def test_help_needs_no_database(workdir: Path) -> None:
    result = ok(capdesk("--help"))
    for command in ("db", "demo", "members", "policy", "requests", "sync"):
        assert re.search(rf"^  {command}\s", result.stdout, re.MULTILINE), command
    ok(capdesk("members", "list", "--help"))
    ok(capdesk("requests", "list", "--help"))
    assert list(workdir.iterdir()) == []


def test_the_installed_script_exits_non_zero_with_one_line(workdir: Path) -> None:
    """The real console script, in its own process: exit status and stderr as a shell sees them."""
    script = Path(sysconfig.get_path("scripts")) / "capdesk"
    if not script.is_file():
        script = Path(sys.executable).parent / "capdesk"
    assert script.is_file(), f"the capdesk console script is not installed next to {sys.executable}"
    env: dict[str, Any] = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_OUTSIDE) and name not in _TERMINAL
    }
    done = subprocess.run(
        [str(script), "members", "list", "--at", AT],
        cwd=workdir,
        env={**env, "CAPDESK_HTTP_PORT": "abc"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert done.stderr == f"Error: {PORT_LINE}\n"
    assert done.stdout == ""
    assert list(workdir.iterdir()) == []
