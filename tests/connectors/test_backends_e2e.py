"""Each real backend end to end, against its fake: `capdesk sync` fills the store, and an
approved request changes the fake. With `anthropic`, also the native increase request and the
seat upgrade that ends as a manual task, and a process killed between approval and apply.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.bootstrap import Capdesk, bootstrap
from bot.cli.main import cli
from bot.settings import load_settings
from tests.connectors.fake_anthropic import KEY, FakeAnthropic
from tests.connectors.fake_contract import TOKEN, FakeContract
from tests.connectors.fake_litellm import MASTER_KEY, FakeLiteLLM
from tests.connectors.server import FakeBackend, Served
from workflows.alerts.running import run_alerts
from workflows.applying.admin_actions import confirm_manual
from workflows.applying.grants import expire_grants
from workflows.clock import ManualClock
from workflows.model import OperationStatus, Request, RequestStatus, Verdict
from workflows.requests import texts
from workflows.requests.asking import submit_request
from workflows.requests.deciding import decide
from workflows.requests.grammar import RequestDraft, parse_command
from workflows.requests.native import poll_native_requests

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
ANA, DANA, EVE = "ana@example.com", "dana@example.com", "eve@example.com"
POLICY = """\
org: {timezone: Europe/Berlin}
admins: [ana@example.com]
groups:
  - name: embedded
    owners: [dana@example.com]
    members: [eve@example.com, "*@firmware.example.com"]
    default_cap_usd: 85
    max_cap_usd: 400
"""
_OUTSIDE = ("CAPDESK_", "SLACK_", "MICROSOFT_", "ANTHROPIC_", "LITELLM_")


def anthropic_org() -> FakeAnthropic:
    fake = FakeAnthropic(page_size=2)
    for email, name in [(ANA, "Ana"), (DANA, "Dana"), (EVE, "Eve Novak")]:
        fake.add_user(email, name)
    for n in range(3):
        fake.add_user(f"m{n}@firmware.example.com", f"M{n}")
    fake.claude_code["2026-11-19"] = [
        {
            "actor": {"type": "user_actor", "email_address": EVE},
            "core_metrics": {"num_sessions": 4},
            "model_breakdown": [{"model": "claude-sonnet-4", "estimated_cost": {"amount": 612}}],
        }
    ]
    return fake


def litellm_org() -> FakeLiteLLM:
    fake = FakeLiteLLM(page_size=2)
    for n, email in enumerate([ANA, DANA, EVE, "m0@firmware.example.com"]):
        fake.add_user(f"u-{n}", email, max_budget=85.0)
    fake.log("u-2", "2026-11-19T10:00:00Z", 6.12)
    return fake


def contract_org() -> FakeContract:
    fake = FakeContract(page_size=2)
    for email, name in [(ANA, "Ana"), (DANA, "Dana"), (EVE, "Eve Novak")]:
        fake.add_member(email, name)
    fake.usage = [{"email": EVE, "day": "2026-11-19", "spend_cents": 612, "commands": 4}]
    return fake


def env_for(backend: str, url: str) -> dict[str, str]:
    return {
        "anthropic": {"ANTHROPIC_ADMIN_KEY": KEY, "ANTHROPIC_ADMIN_URL": url},
        "litellm": {"LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_BASE_URL": url},
        "http": {"CAPDESK_ADMIN_TOKEN": TOKEN, "CAPDESK_ADMIN_URL": url},
    }[backend] | {"CAPDESK_ADMIN_BACKEND": backend}


def cap_in_fake(fake: FakeBackend, email: str) -> int | None:
    if isinstance(fake, FakeAnthropic):
        amount = fake.effective(email)
        return None if amount is None else int(amount)
    if isinstance(fake, FakeLiteLLM):
        user = next(u for u in fake.users.values() if u["user_email"] == email)
        return round(user["max_budget"] * 100)
    assert isinstance(fake, FakeContract)
    cap: int | None = fake.members[email]["monthly_cap_cents"]
    return cap


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, the environment cleared of capdesk's variables, a policy."""
    for name in list(os.environ):
        if name.startswith(_OUTSIDE):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "capdesk.yaml").write_text(POLICY)
    monkeypatch.setenv("CAPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'capdesk.db'}")
    monkeypatch.setenv("CAPDESK_POLICY_FILE", str(tmp_path / "capdesk.yaml"))
    return tmp_path


def served(fake: FakeBackend, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with Served(fake) as server:
        for name, value in env_for(backend, server.url).items():
            monkeypatch.setenv(name, value)
        yield server


def app() -> Capdesk:
    return bootstrap(load_settings(), clock=ManualClock(T0))


def draft(capdesk: Capdesk, text: str) -> RequestDraft:
    command = parse_command(
        text,
        now=T0,
        zone=capdesk.policy.org.zone,
        longest_days=capdesk.policy.requests.max_duration_days,
    )
    assert isinstance(command, RequestDraft)
    return command


def ask(capdesk: Capdesk, text: str) -> Request:
    """Eve asks, in chat."""
    return submit_request(
        capdesk.uow(), capdesk.policy, requester=EVE, draft=draft(capdesk, text), now=T0
    )


def approve(capdesk: Capdesk, request_id: int) -> None:
    """Dana, Eve's owner, approves."""
    decide(
        capdesk.uow(),
        capdesk.policy,
        request_id=request_id,
        actor=DANA,
        verdict=Verdict.APPROVE,
        now=T0,
    )


@pytest.mark.parametrize(
    ("backend", "make"),
    [("anthropic", anthropic_org), ("litellm", litellm_org), ("http", contract_org)],
)
def test_sync_fills_the_store_and_an_approved_raise_changes_the_backend(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, backend: str, make: Any
) -> None:
    fake = make()
    for _ in served(fake, backend, monkeypatch):
        result = CliRunner().invoke(cli, ["sync"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "Synced" in result.output

        capdesk = app()
        with capdesk.uow() as uow:
            eve = uow.members.get(EVE)
            assert eve is not None
            assert eve.cap_cents == 8500
            assert uow.usage.spend_since(EVE, T0.date().replace(day=1)) == 612
        asked = ask(capdesk, "raise 100 release prep")
        approve(capdesk, asked.id)
        report = capdesk.worker().drain()

        assert len(report.applied) == 1
        assert cap_in_fake(fake, EVE) == 18500
        with capdesk.uow() as uow:
            done = uow.requests.get(asked.id)
        assert done is not None
        assert done.status is RequestStatus.APPLIED


def test_a_native_request_is_routed_approved_and_written_back(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = anthropic_org()
    fake.ask_for_more(EVE, "slir_01", "2026-11-20T11:00:00Z")
    for _ in served(fake, "anthropic", monkeypatch):
        capdesk = app()
        capdesk.sync()

        report = poll_native_requests(capdesk.uow, capdesk.connector, capdesk.policy, T0)
        again = poll_native_requests(capdesk.uow, capdesk.connector, capdesk.policy, T0)

        (request_id,) = report.created
        assert (again.created, again.already_seen) == ([], 1)
        with capdesk.uow() as uow:
            routed = uow.notifications.recipients_of(texts.approval_thread(request_id))
        assert [r.address for r in routed] == [DANA]
        approve(capdesk, request_id)
        capdesk.worker().drain()

        assert fake.approvals == [("slir_01", "17000", "monthly")]
        assert fake.effective(EVE) == "17000"
        assert fake.limit_writes == []  # the approve itself set the limit
        assert (
            poll_native_requests(capdesk.uow, capdesk.connector, capdesk.policy, T0).created == []
        )


def test_a_seat_upgrade_ends_as_a_manual_task_an_admin_confirms(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = anthropic_org()
    for _ in served(fake, "anthropic", monkeypatch):
        capdesk = app()
        capdesk.sync()
        asked = ask(capdesk, "upgrade premium for 14d long context for the HIL logs")
        approve(capdesk, asked.id)

        report = capdesk.worker().drain()

        (operation_id,) = report.manual
        with capdesk.uow() as uow:
            operation = uow.operations.get(operation_id)
            tasks = uow.notifications.recipients_of(f"operation:{operation_id}")
        assert operation is not None
        assert operation.status is OperationStatus.MANUAL
        assert [r.address for r in tasks] == [ANA]
        assert not [c for c in fake.calls if c.method != "GET"]
        confirm_manual(capdesk.uow(), capdesk.policy, operation_id=operation_id, actor=ANA, now=T0)
        with capdesk.uow() as uow:
            request = uow.requests.get(asked.id)
            grant = uow.grants.of_request(asked.id)
        assert request is not None
        assert request.status is RequestStatus.APPLIED
        assert grant is not None  # so the end of the fortnight brings a revert task


@pytest.mark.slow
def test_killed_between_approval_and_apply_the_backend_is_written_once(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = anthropic_org()
    fake.ask_for_more(EVE, "slir_01", "2026-11-20T11:00:00Z")
    for _ in served(fake, "anthropic", monkeypatch):
        app().sync()
        done = subprocess.run(
            [sys.executable, "-m", "tests.connectors.crash_child", T0.isoformat()],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
        said = json.loads(done.stdout.splitlines()[-1])
        assert fake.approvals == []  # approved and committed in capdesk, not applied yet

        capdesk = app()
        first = capdesk.worker().drain()
        second = capdesk.worker().drain()

        assert (len(first.applied), second.handled) == (1, 0)
        assert fake.approvals == [("slir_01", "17000", "monthly")]
        with capdesk.uow() as uow:
            request = uow.requests.get(said["request_id"])
            actions = [e.action for e in uow.audit.of(f"request:{said['request_id']}")]
        assert request is not None
        assert request.status is RequestStatus.APPLIED
        assert actions == [
            "request.created",
            "request.approved",
            "request.applying",
            "request.applied",
        ]


def test_policy_init_edit_check_sync_on_an_enterprise_org(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's way to connect a real organisation, against the Anthropic fake."""
    fake = anthropic_org()
    fake.user(ANA).role = "primary_owner"
    fake.add_group("Embedded", [EVE, DANA])
    (workdir / "capdesk.yaml").unlink()
    monkeypatch.delenv("CAPDESK_POLICY_FILE")
    runner = CliRunner()
    for _ in served(fake, "anthropic", monkeypatch):
        monkeypatch.setenv("CAPDESK_ADMIN_BACKEND", "sandbox")  # --backend overrides it
        init = runner.invoke(
            cli, ["policy", "init", "--backend", "anthropic", "--at", "2026-11-20"]
        )
        assert init.exit_code == 0, init.output
        monkeypatch.setenv("CAPDESK_ADMIN_BACKEND", "anthropic")
        (workdir / "capdesk.yaml").write_text(init.output.replace("UTC", "Europe/Berlin"))

        check = runner.invoke(cli, ["policy", "check", "capdesk.yaml"])
        assert check.exit_code == 0, check.output
        assert "OK (2 groups" in check.output
        synced = runner.invoke(cli, ["sync"])
        assert synced.exit_code == 0, synced.output

        capdesk = app()
        assert capdesk.policy.admins == [ANA]
        with capdesk.uow() as uow:
            eve = uow.members.get(EVE)
            firmware = uow.members.get("m0@firmware.example.com")
        assert eve is not None
        assert firmware is not None
        assert capdesk.policy.group_of_member(eve).name == "embedded"  # type: ignore[union-attr]
        assert capdesk.policy.group_of_member(firmware).name == "others"  # type: ignore[union-attr]


def test_policy_init_without_a_key_says_which_setting_is_missing(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = CliRunner().invoke(cli, ["policy", "init", "--backend", "anthropic"])

    assert result.exit_code == 1
    assert result.output == (
        "Error: ANTHROPIC_ADMIN_KEY: must be set when CAPDESK_ADMIN_BACKEND=anthropic\n"
    )


def test_a_weekly_native_request_is_approved_as_weekly(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = anthropic_org()
    fake.set_own(EVE, "2000", "weekly")
    fake.ask_for_more(EVE, "slir_01", "2026-11-20T11:00:00Z", period="weekly")
    for _ in served(fake, "anthropic", monkeypatch):
        capdesk = app()
        capdesk.sync()
        (request_id,) = poll_native_requests(
            capdesk.uow, capdesk.connector, capdesk.policy, T0
        ).created
        approve(capdesk, request_id)
        capdesk.worker().drain()

        # $85 a month is $20 a week more: the member is unblocked on the limit they hit.
        assert fake.approvals == [("slir_01", "4000", "weekly")]
        assert (fake.effective(EVE, "weekly"), fake.effective(EVE)) == ("4000", "8500")
        with capdesk.uow() as uow:
            request = uow.requests.get(request_id)
            eve = uow.members.get(EVE)
        assert request is not None
        assert request.status is RequestStatus.APPLIED
        assert texts.what(request) == "+$20 a week ($20 → $40)"
        assert eve is not None
        assert eve.cap_cents == 8500


def test_a_grant_on_an_inherited_cap_reverts_to_inheriting(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = anthropic_org()
    for _ in served(fake, "anthropic", monkeypatch):
        capdesk = app()
        capdesk.sync()
        asked = ask(capdesk, "raise 100 for 14d release prep")
        approve(capdesk, asked.id)
        capdesk.worker().drain()
        assert (fake.effective(EVE), fake.source(EVE)) == ("18500", "user")

        later = T0 + timedelta(days=15)
        capdesk = dataclasses.replace(capdesk, clock=ManualClock(later))
        assert expire_grants(capdesk.uow(), now=later)
        capdesk.worker().drain()

        assert (fake.effective(EVE), fake.source(EVE)) == ("8500", "organization")
        assert fake.deletions == [(fake.user(EVE).id, "monthly")]
        with capdesk.uow() as uow:
            grant = uow.grants.of_request(asked.id)
            assert grant is not None
            ended = uow.audit.of(f"grant:{grant.id}")[-1]
            eve = uow.members.get(EVE)
        assert (ended.after["revert"], ended.after["cap_cents"]) == ("inherit", 8500)
        assert eve is not None
        assert eve.cap_cents == 8500


def test_hourly_cost_reaches_the_after_hours_rule_for_an_enterprise_org(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = anthropic_org()
    # Midnight in Berlin: $31.50 in one hour, real cost from the analytics report.
    fake.add_cost(fake.user_actor(EVE), "2026-11-19T23:00:00Z", "3150.4")
    (workdir / "capdesk.yaml").write_text(
        POLICY
        + "rules:\n"
        + "  - {id: night, kind: after_hours_spike, min_spend_usd_per_hour: 20,"
        + " notify: [admins]}\n"
    )
    for _ in served(fake, "anthropic", monkeypatch):
        capdesk = app()
        report = capdesk.sync()

        run = run_alerts(capdesk.uow, capdesk.policy, now=T0)

        assert report.hourly_rows == 1
        assert [(f.rule.id, f.subject) for f in run.fired] == [("night", EVE)]
        assert fake.calls_to("GET", "/v1/organizations/usage_report/messages") == []
