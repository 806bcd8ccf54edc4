"""`capdesk demo`: the scripted sandbox story, read from its transcript as a person would.

The demo runs once through the real command line (click's runner on `bot.cli.main:cli`) in an
empty working directory and with a private temporary directory; every test reads that one
transcript. One more run through the installed `capdesk` script, in a child process, must print
the very same transcript.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console
from sqlalchemy import text

import bot.cli.demo
import bot.demo
from bot.cli.main import cli
from store.engine import make_engine

AT = "2026-11-23T10:30"  # read in the sandbox org's timezone, Europe/Berlin
ARGS = ["demo", "--at", AT, "--width", "120"]
# The same instant with its offset: the same story.
ARGS_UTC = ["demo", "--at", "2026-11-23T09:30Z", "--width", "120"]

# Settings and terminal variables of the person running the tests must not reach the demo.
_OUTSIDE = ("CAPDESK_", "SLACK_", "MICROSOFT_", "ANTHROPIC_", "LITELLM_")
_TERMINAL = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")

BUTTONS = "[ Approve ] [ Deny ]"


@dataclass
class Panel:
    """One boxed message: its title line (who sees it) and its text with wrapping undone."""

    title: str
    body: str


@dataclass
class Step:
    """The transcript between two numbered rules: plain lines and panels, in order."""

    title: str
    lines: list[str] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    events: list[str | Panel] = field(default_factory=list)

    def panel(self, title: str) -> Panel:
        found = [p for p in self.panels if p.title == title]
        assert len(found) == 1, (title, [p.title for p in self.panels])
        return found[0]

    def titled(self, title: str) -> list[Panel]:
        return [p for p in self.panels if p.title == title]


@dataclass
class DemoRun:
    output: str
    stderr: str
    exit_code: int
    cwd: Path
    scratch: Path
    store: dict[str, list[dict[str, Any]]]


_RULE = re.compile(r"^─+ (\d+)\. (.+?) ─+$")


def _flat(text: str) -> str:
    return " ".join(text.split())


def parse(transcript: str) -> tuple[Step, dict[int, Step]]:
    """The opening (the banner) and the numbered steps of a transcript."""
    opening = Step("opening")
    steps: dict[int, Step] = {}
    current = opening
    box: list[str] | None = None
    title = ""
    for line in transcript.splitlines():
        if box is not None:
            if line.startswith("╰"):
                panel = Panel(title, _flat("\n".join(box)))
                current.panels.append(panel)
                current.events.append(panel)
                box = None
            else:
                assert line.startswith("│"), line
                box.append(line.strip().strip("│"))
        elif line.startswith("╭"):
            title = line.strip("╭╮─ ")
            box = []
        elif rule := _RULE.match(line):
            current = steps.setdefault(int(rule[1]), Step(rule[2]))
        elif line.strip():
            current.lines.append(line.strip())
            current.events.append(line.strip())
    assert box is None, "a panel is not closed"
    return opening, steps


def _clean_environment(mp: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_OUTSIDE) or name in _TERMINAL:
            mp.delenv(name)


def _read_store(database_url: str) -> dict[str, list[dict[str, Any]]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table: [
                    dict(row._mapping)
                    for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
                ]
                for table in ("request", "audit_log", "notification")
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One `capdesk demo --at ... --width 120`, with a look at its database before it goes."""
    cwd = tmp_path_factory.mktemp("demo-cwd")
    scratch = tmp_path_factory.mktemp("demo-tmp")
    store: dict[str, list[dict[str, Any]]] = {}
    real_run_demo = bot.demo.run_demo

    def run_and_look(console: Console, *, database_url: str, **kwargs: Any) -> None:
        real_run_demo(console, database_url=database_url, **kwargs)
        store.update(_read_store(database_url))

    with pytest.MonkeyPatch.context() as mp:
        _clean_environment(mp)
        mp.chdir(cwd)
        mp.setattr(tempfile, "tempdir", str(scratch))
        mp.setattr(bot.cli.demo, "run_demo", run_and_look)
        # A configured database of one's own must not be touched by the demo.
        runner = CliRunner(env={"CAPDESK_DATABASE_URL": f"sqlite:///{cwd / 'mine.db'}"})
        result = runner.invoke(cli, ARGS)
    return DemoRun(
        output=result.stdout,
        stderr=result.stderr,
        exit_code=result.exit_code,
        cwd=cwd,
        scratch=scratch,
        store=store,
    )


@pytest.fixture(scope="module")
def steps(demo_run: DemoRun) -> dict[int, Step]:
    assert demo_run.exit_code == 0, demo_run.stderr or demo_run.output
    return parse(demo_run.output)[1]


def test_the_demo_runs_cleanly_and_tells_ten_steps(demo_run: DemoRun) -> None:
    assert demo_run.exit_code == 0, demo_run.stderr or demo_run.output
    assert demo_run.stderr == ""
    assert "\x1b[" not in demo_run.output  # no colour codes when the output is not a terminal
    opening, steps = parse(demo_run.output)
    assert sorted(steps) == list(range(1, 11))
    banner = opening.panels[0].body
    assert "capdesk demo · sandbox org (seed 7): 121 people in 5 groups" in banner
    assert "Mon 23 Nov 2026 10:30 CET" in banner  # --at is the org's wall clock
    assert max(len(line) for line in demo_run.output.splitlines()) <= 120


def test_step_1_eve_sees_her_status_card(steps: dict[int, Step]) -> None:
    step = steps[1]
    assert step.lines == ["Eve Novak types /capdesk status"]
    card = step.panel("only visible to Eve Novak")
    assert card.body.startswith("Eve Novak: standard seat, $85 a month")
    for fact in ("Group embedded", "Seat standard", "Monthly cap $85", "Spent this month $"):
        assert fact in card.body
    assert re.search(r"Spent this month [█░]{20} \d+% of \$85", card.body)
    assert "[ Request more ]" in card.body


def test_step_2_eve_asks_and_her_group_gets_an_approval_card(steps: dict[int, Step]) -> None:
    step = steps[2]
    assert step.lines == [
        "Eve Novak types /capdesk raise 150 for 14d release prep: flashing and HIL test runs"
    ]
    ack = step.panel("only visible to Eve Novak")
    assert "Request #1: +$150 a month ($85 → $235), until Mon 7 Dec" in ack.body
    assert "Sent to your approvers" in ack.body
    card = step.panel("#embedded channel")
    assert card.body.startswith("Eve Novak asks for +$150 a month")
    assert "Reason release prep: flashing and HIL test runs" in card.body
    assert "For until Mon 7 Dec" in card.body
    assert card.body.endswith(BUTTONS)
    sent = step.panel("DM to Eve Novak")
    assert "Request #1 sent" in sent.body
    assert "Dana Okafor will decide" in sent.body


def test_step_3_dana_approves_the_card_is_updated_and_a_second_click_is_refused(
    steps: dict[int, Step],
) -> None:
    step = steps[3]
    click = "Dana Okafor clicks [ Approve ] on request #1"
    assert step.lines == [click, click]
    first, second = (i for i, event in enumerate(step.events) if event == click)

    updated = step.panel("#embedded channel · message updated")
    assert step.events.index(updated) in range(first, second)
    assert updated.body.startswith("Eve Novak asks for +$150 a month")
    assert updated.body.endswith("Approved by Dana Okafor at 10:30")
    assert "[ Approve ]" not in updated.body
    assert "[ Deny ]" not in updated.body
    told = step.panel("DM to Eve Novak")
    assert told.body.startswith("Request #1 approved by Dana Okafor")

    # The second click changes nothing: only Dana reads the refusal, no card is touched again.
    assert step.events[second + 1 :] == [step.panel("only visible to Dana Okafor")]
    refusal = step.panel("only visible to Dana Okafor")
    assert "already approved by Dana Okafor at 10:30" in refusal.body


def test_step_4_the_change_is_applied_and_the_backend_shows_the_new_cap(
    steps: dict[int, Step],
) -> None:
    step = steps[4]
    assert step.lines == ["The outbox worker applied 1 change(s) through the sandbox connector."]
    assert "Your monthly cap is now $235, until Mon 7 Dec." in step.panel("DM to Eve Novak").body
    backend = step.panel("The sandbox admin backend now says")
    assert backend.body == "Eve Novak: standard seat, monthly cap $235"


def test_step_5_sam_denies_toms_request_with_a_reason_on_both_owners_cards(
    steps: dict[int, Step],
) -> None:
    step = steps[5]
    reason = "Use the shared profiling seat this sprint"
    assert step.lines == [
        "Tom Becker types /capdesk upgrade premium for 30d profiling the build cache",
        "Tom Becker clicks [ Approve ] on request #2",
        f"Sam Ortiz clicks [ Deny ] on request #2 and writes {reason}",
    ]
    for owner in ("Sam Ortiz", "Lea Brandt"):
        card = step.panel(f"DM to {owner}")
        assert card.body.startswith("Tom Becker asks for a premium seat")
        assert card.body.endswith(BUTTONS)
        updated = step.panel(f"DM to {owner} · message updated")
        assert updated.body.endswith(f"Denied by Sam Ortiz at 10:30: {reason}")
        assert "[ Approve ]" not in updated.body
        assert "[ Deny ]" not in updated.body
    ack, refusal = step.titled("only visible to Tom Becker")
    assert ack.body.startswith("Request #2: premium seat (now standard), until Wed 23 Dec")
    # Tom may not approve his own request.
    assert "can't decide on your own request" in refusal.body
    told = step.titled("DM to Tom Becker")[-1]
    assert told.body.startswith("Request #2 denied by Sam Ortiz")
    assert f"Note {reason}" in told.body


def test_step_6_three_refusals_reach_only_the_person_and_write_nothing(
    steps: dict[int, Step], demo_run: DemoRun
) -> None:
    step = steps[6]
    assert step.lines == [
        "Eve Novak types /capdesk raise 5000 for 14d everything",
        "Tom Becker types /capdesk raise 40 until 2020-01-01 old date",
        "Tom Becker types /capdesk raise 40 for 7d",
    ]
    # Nothing is delivered to anybody else: the only panels are the three private replies.
    assert [p.title for p in step.panels] == [
        "only visible to Eve Novak",
        "only visible to Tom Becker",
        "only visible to Tom Becker",
    ]
    above, past, no_reason = (p.body for p in step.panels)
    assert all(body.startswith("That didn't work") for body in (above, past, no_reason))
    assert "above your group's maximum of $400" in above
    assert "2020-01-01 is in the past" in past
    assert "give a reason" in no_reason

    # And nothing is written: the store holds only the three requests that were made ...
    requests = demo_run.store["request"]
    assert [(r["id"], r["requester"], r["status"]) for r in requests] == [
        (1, "eve.novak@example.com", "reverted"),
        (2, "tom.becker@example.com", "denied"),
        (3, "ravi.menon@example.com", "reverted"),
    ]
    assert [r["amount_cents"] for r in requests] == [15000, None, 2000]
    # ... the audit log speaks only of them ...
    audit = demo_run.store["audit_log"]
    created = [(r["actor"], r["subject"]) for r in audit if r["action"] == "request.created"]
    assert created == [
        ("eve.novak@example.com", "request:1"),
        ("tom.becker@example.com", "request:2"),
        ("ravi.menon@example.com", "request:3"),
    ]
    logged = " ".join(str(r["after"]) for r in audit)
    assert "everything" not in logged
    assert "old date" not in logged
    # ... and no message about a refused request was queued for anybody.
    queued = " ".join(str(n["message"]) for n in demo_run.store["notification"])
    assert "5,235" not in queued
    assert "2020-01-01" not in queued


def test_refused_clicks_are_not_recorded(demo_run: DemoRun) -> None:
    """Dana's second click and Tom's click on his own request leave no trace in the store."""
    decisions = [
        (r["actor"], r["action"], r["subject"])
        for r in demo_run.store["audit_log"]
        if r["action"] in {"request.approved", "request.denied"}
    ]
    assert decisions == [
        ("dana.okafor@example.com", "request.approved", "request:1"),
        ("sam.ortiz@example.com", "request.denied", "request:2"),
        ("policy", "request.approved", "request:3"),
    ]


def test_step_7_a_small_increase_is_approved_by_the_policy(steps: dict[int, Step]) -> None:
    step = steps[7]
    assert step.lines == [
        "Ravi Menon types /capdesk raise 20 for 7d board bring-up",
        "The outbox worker applied 1 change(s) through the sandbox connector.",
    ]
    # Number 3: the refused attempts took no request number.
    ack = step.panel("only visible to Ravi Menon")
    assert ack.body.startswith("Request #3: +$20 a month")
    assert "Approved by the policy" in ack.body
    decided, applied = step.titled("DM to Ravi Menon")
    assert decided.body.startswith("Request #3 approved by the policy")
    assert applied.body.startswith("Request #3 is in force")
    assert not [p for p in step.panels if "Approve ]" in p.body]  # no person was asked


def test_step_8_the_admins_get_the_digest_and_the_after_hours_alerts_at_once(
    steps: dict[int, Step],
) -> None:
    step = steps[8]
    assert step.lines[0].startswith("23 alert(s) fired: after-hours spikes 2,")
    assert step.lines[-1] == (
        "Also sent 11 direct message(s) to members: 4 idle-seat questions, 7 near-cap nudges."
    )
    channel = step.titled("#admin channel")
    immediate, digest = channel[:-1], channel[-1]
    assert [p.body.split(":")[0] for p in immediate] == ["After-hours spikes"] * 2
    assert all(p.body.endswith("[ Nudge ]") for p in immediate)
    body = digest.body
    assert body.startswith(
        "capdesk digest for the admins · Mon 23 Nov 13 alerts since the last digest"
    )
    # Grouped by rule, the most urgent kind first, every item with its button.
    order = [
        body.index(h)
        for h in ("Groups near their budget ·", "Forecast to overrun ·", "Idle seats ·")
    ]
    assert order == sorted(order)
    assert "software: $3,858.40 of its $4,000 budget (96%) [ Open requests ]" in body
    assert "past the time to reclaim [ Reclaim seat ]" in body
    assert "Chart: Spend this month (November 2026) Spend by group against budget" in body
    assert "Top spenders against their cap" in body
    assert [p.title for p in step.panels] == ["#admin channel"] * 3  # members' DMs only counted


def test_step_9_eve_is_warned_her_grant_ends_with_an_extension_button(
    steps: dict[int, Step],
) -> None:
    step = steps[9]
    warning = step.panel("DM to Eve Novak")
    assert warning.body.startswith("Your +$150 a month ends Mon 7 Dec 10:30")
    assert warning.body.endswith("[ Ask for an extension ]")
    assert [p.title for p in step.panels] == ["DM to Eve Novak"]  # Ravi's grant already ended


def test_step_10_the_grant_reverts_and_the_backend_shows_the_old_cap(
    steps: dict[int, Step],
) -> None:
    step = steps[10]
    assert step.lines == ["The outbox worker applied 2 change(s) through the sandbox connector."]
    ended = step.panel("DM to Eve Novak")
    assert ended.body.startswith("Your temporary grant from request #1 has ended")
    assert "your monthly cap is back to $85" in ended.body
    assert "back to $80" in step.panel("DM to Ravi Menon").body
    backend = step.panel("The sandbox admin backend now says")
    assert backend.body == "Eve Novak: standard seat, monthly cap $85"
    assert step.events[-1] == backend


def test_the_demo_leaves_no_database_behind(demo_run: DemoRun) -> None:
    assert demo_run.store["request"], "the demo wrote no requests"
    assert list(demo_run.cwd.iterdir()) == []  # neither ./capdesk.db nor CAPDESK_DATABASE_URL
    assert list(demo_run.scratch.iterdir()) == []  # its temporary database is gone too


def _installed_capdesk() -> Path:
    script = Path(sysconfig.get_path("scripts")) / "capdesk"
    if not script.is_file():
        script = Path(sys.executable).parent / "capdesk"
    assert script.is_file(), f"the capdesk console script is not installed next to {sys.executable}"
    return script


def test_the_installed_script_tells_the_same_story_again(demo_run: DemoRun, tmp_path: Path) -> None:
    """The same instant, here with its UTC offset, tells the same story: in another process,
    with another hash seed, and whatever CAPDESK_NOW says."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_OUTSIDE) and name not in _TERMINAL
    }
    env["PYTHONHASHSEED"] = "12345"
    env["CAPDESK_NOW"] = "2027-03-28T03:30"  # --at wins
    done = subprocess.run(
        [str(_installed_capdesk()), *ARGS_UTC],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == demo_run.output
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Where the story would start, recorded instead of telling it."""
    _clean_environment(monkeypatch)
    starts: list[datetime] = []

    def record(console: Console, *, start: datetime, **kwargs: Any) -> None:
        starts.append(start)

    monkeypatch.setattr(bot.cli.demo, "run_demo", record)
    return starts


def test_without_at_the_story_starts_at_capdesk_now(started: list[datetime]) -> None:
    result = CliRunner(env={"CAPDESK_NOW": "2026-12-01T08:30"}).invoke(cli, ["demo"])

    assert result.exit_code == 0, result.output
    assert started == [datetime(2026, 12, 1, 7, 30, tzinfo=UTC)]  # 08:30 in Berlin


@pytest.mark.parametrize(
    ("env", "args", "line"),
    [
        pytest.param(
            {},
            ["--at", "2027-03-28T02:30"],
            "Error: --at: 2027-03-28T02:30 does not exist in Europe/Berlin (the clocks go"
            " forward then); write it with an offset, e.g. 2027-03-28T02:30+01:00",
            id="skipped-at",
        ),
        pytest.param(
            {"CAPDESK_NOW": "2026-10-25T02:30"},
            [],
            "Error: CAPDESK_NOW: 2026-10-25T02:30 happens twice in Europe/Berlin (the clocks go"
            " back then); write it with an offset: 2026-10-25T02:30+02:00 or"
            " 2026-10-25T02:30+01:00",
            id="repeated-now",
        ),
        pytest.param(
            {"CAPDESK_NOW": "next monday"},
            [],
            "Error: CAPDESK_NOW: must be YYYY-MM-DDTHH:MM in the organisation's timezone, or with"
            " an offset: 2026-12-01T08:30+01:00, got 'next monday'",
            id="unreadable-now",
        ),
    ],
)
def test_a_time_that_cannot_be_told_stops_with_one_line(
    started: list[datetime], env: dict[str, str], args: list[str], line: str
) -> None:
    result = CliRunner(env=env).invoke(cli, ["demo", *args])

    assert result.exit_code == 1
    assert result.stderr == line + "\n"
    assert started == []


def test_an_unreadable_at_is_a_usage_error(started: list[datetime]) -> None:
    result = CliRunner().invoke(cli, ["demo", "--at", "2026-11-23 10:30"])

    assert result.exit_code == 2
    assert "Invalid value for '--at': '2026-11-23 10:30': must be YYYY-MM-DDTHH:MM" in result.stderr
    assert started == []
