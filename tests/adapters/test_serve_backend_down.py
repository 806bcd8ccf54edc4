"""`capdesk serve` while the admin backend is down: it starts, `/readyz` names the cause, the
scheduler retries the sync, and Slack keeps working from the store, its changes waiting in
the outbox until the backend answers again."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import Capdesk, bootstrap
from bot.connectors.select import remote_connector
from bot.server.runtime import Runtime
from bot.settings import load_settings
from bot.slack.emulator import SlackEmulator
from tests.adapters.conftest import SECRET
from tests.adapters.test_slack_story import buttons, text_of
from tests.connectors.fake_contract import TOKEN, FakeContract
from tests.connectors.server import Fault, Served
from tests.connectors.test_backends_e2e import ANA, DANA, EVE, POLICY, T0, contract_org
from workflows.clock import ManualClock
from workflows.model import OperationStatus

pytestmark = pytest.mark.anyio

NOT_REACHED = (
    "the admin API at CAPDESK_ADMIN_URL could not be reached for GET /members (ConnectError);"
    " is the URL right and the service up?"
)


@dataclass
class Bot:
    runtime: Runtime
    app: Capdesk
    emu: SlackEmulator
    clock: ManualClock
    base: str

    async def get(self, path: str) -> tuple[int, dict[str, object]]:
        async with aiohttp.ClientSession() as session, session.get(self.base + path) as reply:
            return reply.status, json.loads(await reply.text())

    async def job(self, name: str) -> None:
        assert self.runtime.scheduler is not None
        await self.runtime.scheduler.run_now(name)


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound for a moment, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.fixture
def contract() -> Iterator[Served[FakeContract]]:
    with Served(contract_org()) as server:
        yield server


@asynccontextmanager
async def bot_on(url: str, folder: Path) -> AsyncIterator[Bot]:
    """capdesk served with the scheduler, on the http backend at `url`, after its first sync."""
    (folder / "capdesk.yaml").write_text(POLICY)
    clock = ManualClock(T0)
    async with SlackEmulator(seed=7, today=T0.date(), signing_secret=SECRET) as emu:
        for email in (ANA, DANA, EVE):
            emu.add_user(email)
        settings = load_settings(
            {
                "CAPDESK_DATABASE_URL": f"sqlite:///{folder / 'capdesk.db'}",
                "CAPDESK_POLICY_FILE": str(folder / "capdesk.yaml"),
                "CAPDESK_ADMIN_BACKEND": "http",
                "CAPDESK_ADMIN_URL": url,
                "CAPDESK_ADMIN_TOKEN": TOKEN,
                "SLACK_BOT_TOKEN": emu.bot_token,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": emu.api_url,
            }
        )
        # The connector's quick retries do not sleep here; everything else is as served.
        connector = remote_connector(settings, sleep=lambda _seconds: None)
        app = bootstrap(settings, clock=clock, connector=connector)
        runtime = Runtime(app)
        port = await runtime.start(host="127.0.0.1", port=0)
        emu.request_url = f"http://127.0.0.1:{port}/slack/events"
        try:
            yield Bot(runtime, app, emu, clock, f"http://127.0.0.1:{port}")
        finally:
            await runtime.stop()
            app.engine.dispose()


async def test_serve_starts_while_the_backend_cannot_be_reached(
    closed_port: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    caplog.set_level(logging.WARNING)

    async with bot_on(url, tmp_path) as bot:
        assert await bot.get("/healthz") == (200, {"status": "ok"})
        status, body = await bot.get("/readyz")
        cause = f"{NOT_REACHED} (CAPDESK_ADMIN_BACKEND=http, CAPDESK_ADMIN_URL={url})"
        assert (status, body) == (
            200,
            {
                "status": "degraded",
                "reason": f"admin backend: {cause}",
                "checks": {"database": "ok", "admin_backend": cause},
            },
        )
        # A person gets an answer, even with nothing synced yet.
        reply = await bot.emu.slash_command(EVE, "status")
        await bot.runtime.settle()
        assert reply.status == 200
        assert bot.emu.last_ephemeral_for(EVE) is not None

    told = [r for r in caplog.records if r.name == "bot.server.runtime"]
    assert [r.getMessage() for r in told] == [
        "the first sync failed, serving what the store has; /readyz reports it until a sync"
        f" works: {cause}"
    ]
    assert all(r.exc_info is None for r in caplog.records)  # no traceback in the log


async def test_the_scheduler_retries_a_failed_sync_backing_off_until_it_works(
    contract: Served[FakeContract], tmp_path: Path
) -> None:
    fake = contract.backend
    fake.fail_next(*[Fault(status=503, path="/members")] * 3)  # one sync's three quick tries

    async with bot_on(contract.url, tmp_path) as bot:
        status, body = await bot.get("/readyz")
        assert (status, body["status"]) == (200, "degraded")
        assert "answered GET /members with 503" in str(body["reason"])
        with bot.app.uow() as uow:
            assert uow.members.list() == []

        await bot.job("usage-sync-retry")  # not due yet: nothing is called
        assert len(fake.calls_to("GET", "/members")) == 3

        fake.fail_next(*[Fault(status=503, path="/members")] * 3)
        bot.clock.advance(timedelta(seconds=30))
        await bot.job("usage-sync-retry")  # due: tried, failed again
        assert len(fake.calls_to("GET", "/members")) == 6
        assert bot.runtime.backend.failures == 2

        bot.clock.advance(timedelta(seconds=30))
        await bot.job("usage-sync-retry")  # the second wait is twice as long
        assert len(fake.calls_to("GET", "/members")) == 6

        bot.clock.advance(timedelta(seconds=30))
        await bot.job("usage-sync-retry")  # the backend answers (two pages): the store is filled
        assert len(fake.calls_to("GET", "/members")) == 8
        with bot.app.uow() as uow:
            assert {m.email for m in uow.members.list()} == {ANA, DANA, EVE}
        status, body = await bot.get("/readyz")
        assert (status, body["checks"]) == (200, {"database": "ok", "admin_backend": "ok"})

        bot.clock.advance(timedelta(hours=1))
        await bot.job("usage-sync-retry")  # nothing failed: the hourly sync is enough
        assert len(fake.calls_to("GET", "/members")) == 8


async def test_while_the_backend_is_down_requests_are_recorded_and_wait_in_the_outbox(
    contract: Served[FakeContract], tmp_path: Path
) -> None:
    fake = contract.backend
    before = fake.members[EVE]["monthly_cap_cents"]

    async with bot_on(contract.url, tmp_path) as bot:
        assert (await bot.get("/readyz"))[0] == 200
        down = [Fault(status=503)] * 50
        fake.fail_next(*down)

        await bot.job("usage-sync")
        status, body = await bot.get("/readyz")
        assert (status, body["status"]) == (200, "degraded")
        assert str(body["reason"]).startswith(
            "admin backend: the admin API at CAPDESK_ADMIN_URL answered GET /members with 503"
        )
        reason = str(body["reason"])
        assert body["checks"] == {
            "database": "ok",
            "admin_backend": reason.removeprefix("admin backend: "),
        }

        # Status comes from the store.
        await bot.emu.slash_command(EVE, "status")
        await bot.runtime.settle()
        answer = bot.emu.last_ephemeral_for(EVE)
        assert answer is not None
        assert "$85" in text_of(answer)

        # A request is recorded, decided, and its change waits in the outbox.
        await bot.emu.slash_command(EVE, "raise 150 for 14d release prep")
        await bot.runtime.settle()
        card = (bot.emu.messages_in("C0EMBEDDED") or bot.emu.messages_to(DANA))[-1]
        assert buttons(card) == ["approve", "deny"]
        await bot.emu.click(DANA, card, "approve")
        await bot.runtime.settle()
        with bot.app.uow() as uow:
            (request,) = uow.requests.list(requester=EVE)
            operation = uow.operations.get(1)
        assert request.status.value == "applying"
        assert operation is not None
        assert (operation.status, operation.attempts) == (OperationStatus.PENDING, 1)
        assert "503" in (operation.last_error or "")
        assert fake.members[EVE]["monthly_cap_cents"] == before

        # The backend is back: the retried sync clears readiness, the outbox applies the change.
        fake.faults.clear()
        bot.clock.advance(timedelta(minutes=30))
        await bot.job("usage-sync-retry")
        assert (await bot.get("/readyz"))[0] == 200
        await bot.job("operations")
        assert fake.members[EVE]["monthly_cap_cents"] == before + 15_000
