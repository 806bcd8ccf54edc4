"""capdesk served for real on a local port, talking to the Slack emulator over HTTP."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, text

from bot.bootstrap import Capdesk, bootstrap
from bot.server.runtime import Runtime
from bot.settings import load_settings
from bot.slack.emulator import Message, SlackEmulator
from store.engine import make_engine
from store.migrate import upgrade
from tests.now import NOW
from tests.postgres import fresh_schema
from workflows.clock import ManualClock

T = TypeVar("T")

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
T0 = NOW

EVE = "eve.novak@example.com"  # embedded; the group posts approvals to #embedded
DANA = "dana.okafor@example.com"  # owner of embedded
TOM = "tom.becker@example.com"  # software; its owners get approvals by DM
SAM = "sam.ortiz@example.com"  # owner of software
LEA = "lea.brandt@example.com"  # owner of software
ANA = "ana.lima@example.com"  # admin
RAVI = "ravi.menon@example.com"  # owner of electronics, nothing to do with software


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """slack_sdk's retry handlers' waits, recorded instead of slept."""
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    for module in ("builtin_async_handlers", "async_handler"):
        monkeypatch.setattr(f"slack_sdk.http_retry.{module}.asyncio", SimpleNamespace(sleep=record))
    return slept


class LoopThread:
    """An event loop of its own, so Hypothesis's synchronous examples can drive the server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@dataclass
class Served:
    """The bot behind its HTTP endpoint, and the workspace around it."""

    emu: SlackEmulator
    runtime: Runtime
    app: Capdesk
    clock: ManualClock

    async def settle(self) -> None:
        """Let the work started by the last requests finish, and both outboxes drain."""
        await self.runtime.settle()

    def dm(self, who: str) -> list[Message]:
        return self.emu.messages_in(self.emu.dm_of(who))

    def cap_of(self, email: str) -> int:
        members = {m.email: m for m in self.app.connector.list_members()}
        cap = members[email].monthly_cap_cents
        assert cap is not None
        return cap

    def audit(self, subject: str) -> list[tuple[str, str]]:
        with self.app.uow() as uow:
            return [(entry.action, entry.actor) for entry in uow.audit.of(subject)]

    def written(self) -> tuple[int, ...]:
        """Rows in the tables a command may write: requests, audit entries, messages."""
        with self.app.engine.connect() as connection:
            return tuple(
                int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
                for table in ("request", "audit_log", "notification", "operation")
            )

    def requests(self) -> list[tuple[int, str]]:
        with self.app.uow() as uow:
            return [(r.id, r.status.value) for r in uow.requests.list()]


@pytest.fixture(scope="session")
def synced_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox org synced once; each test starts from a copy."""
    path = tmp_path_factory.mktemp("store") / "capdesk.db"
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{path}"})
    app = bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True)
    app.ensure_synced()
    app.engine.dispose()
    return path


@asynccontextmanager
async def serve(
    folder: Path,
    synced_store: Path,
    *,
    url: str | None = None,
    env: dict[str, str] | None = None,
    runtime: dict[str, Any] | None = None,
) -> AsyncIterator[Served]:
    """capdesk behind its HTTP endpoint, with the emulator: on a copy of the synced SQLite
    store, or on the database at `url` (synced here); `env` adds settings, `runtime` options
    of the Runtime (the scheduler is off unless it says `scheduled`)."""
    clock = ManualClock(T0)
    if url is None:
        database = folder / "capdesk.db"
        shutil.copyfile(synced_store, database)
        url = f"sqlite:///{database}"
    # The workspace and the bot share one clock; signatures keep the real time (Bolt's check).
    async with SlackEmulator(seed=7, clock=clock, signing_secret=SECRET) as emu:
        settings = load_settings(
            {
                "CAPDESK_DATABASE_URL": url,
                "SLACK_BOT_TOKEN": emu.bot_token,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": emu.api_url,
                **(env or {}),
            }
        )
        app = bootstrap(settings, clock=clock, builtin_policy_only=True)
        await asyncio.to_thread(app.ensure_synced)
        running = Runtime(app, **{"scheduled": False, **(runtime or {})})
        port = await running.start(host="127.0.0.1", port=0)
        emu.request_url = f"http://127.0.0.1:{port}/slack/events"
        try:
            yield Served(emu=emu, runtime=running, app=app, clock=clock)
        finally:
            await running.stop()
            app.engine.dispose()


@pytest.fixture
def database() -> str:
    """SQLite unless a module asks for both (a module-level `database` fixture)."""
    return "sqlite"


@pytest.fixture
def database_url(database: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the synced SQLite copy, else a fresh, migrated PostgreSQL schema."""
    if database == "sqlite":
        yield None
        return
    server: Engine = request.getfixturevalue("postgres_server")
    with fresh_schema(server, "capdesk_ad") as (_, url):
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
async def served(
    tmp_path: Path, synced_store: Path, database_url: str | None
) -> AsyncIterator[Served]:
    async with serve(tmp_path, synced_store, url=database_url) as running:
        yield running


BOTH_DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
"""For `@pytest.fixture(params=BOTH_DATABASES) def database(...)` in a module."""
