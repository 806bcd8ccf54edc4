"""The whole story on a chat platform that exists only in the tests (`tests/chat/plain.py`):
a renderer to plain data and a transport that records, plugged into capdesk's seam with no
Slack code. Two of them serve one organisation: Sam is on one, Tom, Lea and Ana on the other.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.bootstrap import Capdesk, bootstrap, deliver_through_chat
from bot.server.runtime import Runtime
from bot.settings import load_settings
from tests.chat.plain import Adapter, Plain, PlainPlatform
from tests.now import NOW, ZONE
from workflows.clock import ManualClock
from workflows.commands import run_command
from workflows.policy import Policy

pytestmark = pytest.mark.anyio

TOM = "tom.becker@example.com"  # software
SAM, LEA = "sam.ortiz@example.com", "lea.brandt@example.com"  # software's owners
ANA = "ana.lima@example.com"  # admin


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def by_direct_message(policy: Policy) -> Policy:
    """The sandbox policy without channels: these platforms have none in the policy."""
    groups = [g.model_copy(update={"channel": None}) for g in policy.groups]
    return policy.model_copy(update={"admin_channel": None, "groups": groups})


@dataclass
class Story:
    runtime: Runtime
    plain: Adapter
    other: Adapter

    async def settle(self) -> None:
        await self.runtime.settle()

    def inbox(self, adapter: Adapter, email: str) -> list[list[Plain]]:
        """Every message posted to the person, each with its versions, oldest first."""
        transport = adapter.notifier
        return [transport.messages[ref] for ref in transport.inbox[f"{transport.platform}:{email}"]]

    def platforms(self) -> set[str | None]:
        with self.runtime.app.engine.connect() as connection:
            return set(connection.execute(text("SELECT platform FROM notification")).scalars())


async def capdesk(folder: Path) -> tuple[Capdesk, PlainPlatform, PlainPlatform]:
    """capdesk on the sandbox org, synced, and the two platforms its people are on."""
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{folder / 'capdesk.db'}"})
    app = bootstrap(settings, clock=ManualClock(NOW), builtin_policy_only=True)
    app = dataclasses.replace(app, policy=by_direct_message(app.policy))
    await asyncio.to_thread(app.ensure_synced)
    return (
        app,
        PlainPlatform("plain", "Plain", {TOM, LEA, ANA}),
        PlainPlatform("other", "Other", {SAM}),
    )


@pytest.fixture
async def story(tmp_path: Path) -> AsyncIterator[Story]:
    app, plain, other = await capdesk(tmp_path)
    runtime = Runtime(app, platforms=[plain, other])
    await runtime.start(host="127.0.0.1", port=0)
    try:
        yield Story(runtime, plain.built[0], other.built[0])
    finally:
        await runtime.stop()
        app.engine.dispose()


async def test_the_whole_story_runs_through_the_neutral_layer(story: Story) -> None:
    plain, other = story.plain, story.other
    tom, sam = f"plain:{TOM}", f"other:{SAM}"

    # A typed command without a reason opens the request form, with what was typed.
    form = await plain.types(tom, "raise 150 for 14d")
    assert form["form"] == "request"
    assert form["fields"]["amount"] == {"kind": "money", "initial": "150"}
    until = form["fields"]["until"]["initial"]
    assert until == (NOW + timedelta(days=14)).astimezone(ZONE).date().isoformat()

    # Submitted with a field wrong, it says so next to that field and writes nothing.
    wrong = await plain.submits(tom, form, {"amount": "lots", "until": until, "reason": "prep"})
    assert list(wrong["errors"]) == ["amount"]
    assert "not an amount" in wrong["errors"]["amount"]
    short = await plain.submits(tom, form, {"amount": "150", "until": until, "reason": "x"})
    assert list(short["errors"]) == ["reason"]
    assert story.platforms() == set()

    done = await plain.submits(
        tom, form, {"amount": "150", "until": until, "reason": "release prep"}
    )
    assert done["title"].startswith("Request #1: +$150 a month")
    await story.settle()

    # Each approver gets the card on their own platform; Tom hears where it went.
    [sams_card] = story.inbox(other, SAM)
    [leas_card] = story.inbox(plain, LEA)
    assert sams_card[-1]["buttons"] == leas_card[-1]["buttons"] == [("approve", "1"), ("deny", "1")]
    [sent] = story.inbox(plain, TOM)
    assert sent[-1]["title"] == "Request #1 sent"
    assert sent[-1]["buttons"] == [("cancel", "1")]
    assert story.platforms() == {"plain", "other"}

    # One click approves; every copy of the card is updated in place.
    reply = await other.clicks(sam, sams_card[-1]["buttons"][0])
    assert reply["title"] == "You approved #1"
    await story.settle()
    for card in (story.inbox(other, SAM)[0], story.inbox(plain, LEA)[0]):
        assert len(card) == 2
        assert card[-1]["footer"].startswith("Approved by Sam Ortiz at ")
        assert card[-1]["buttons"] == []

    # The requester is told, and the change applied through the sandbox backend.
    told = [versions[-1]["title"] for versions in story.inbox(plain, TOM)]
    assert told[0] == "Request #1 sent"
    assert any(t.startswith("Request #1 approved by Sam Ortiz") for t in told)
    assert any(t.startswith("Request #1 is in force") for t in told)
    assert story.inbox(plain, TOM)[0][-1]["buttons"] == []  # no Cancel once decided

    # Commands are written the way this platform's renderer writes them.
    help_text = (await plain.types(tom, "help"))["text"]
    assert "`!capdesk status`" in help_text
    assert "/capdesk" not in help_text

    # The admins' digest reaches Ana, within this platform's own budget.
    scheduler = story.runtime.scheduler
    assert scheduler is not None
    await scheduler.run_now("alert-rules")
    await scheduler.run_now("digest")
    await story.settle()
    digests = [
        v[-1] for v in story.inbox(plain, ANA) if v[-1]["title"].startswith("capdesk digest")
    ]
    assert digests, [v[-1]["title"] for v in story.inbox(plain, ANA)]
    for digest in digests:
        assert 0 < len(digest["sections"]) <= 12
        assert all(len(section) <= 200 for section in digest["sections"])


async def test_someone_no_platform_knows_is_told_so_on_the_one_they_used(story: Story) -> None:
    reply = await story.plain.types("plain:stranger@example.com", "status")
    assert reply["title"] == "I don't know you yet"
    assert "your Plain account's email" in reply["text"]


def test_the_platform_is_only_a_renderer_and_a_transport_and_imports_no_slack() -> None:
    tree = ast.parse(Path(__file__).with_name("plain.py").read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert not any(module.startswith(("bot.slack", "slack_")) for module in imported)
    assert not any(module.startswith(("store", "bot.bootstrap")) for module in imported)


async def test_a_one_off_command_delivers_through_the_same_platforms(tmp_path: Path) -> None:
    app, plain, other = await capdesk(tmp_path)
    await asyncio.to_thread(
        run_command, app.uow, app.policy, email=TOM, text="raise 150 for 14d prep", now=NOW
    )

    report = await asyncio.to_thread(deliver_through_chat, app, [plain, other])

    assert len(report.delivered) == 3  # Sam's and Lea's cards, Tom's "Request #1 sent"
    [on_plain] = plain.built
    [on_other] = other.built
    assert list(on_other.notifier.inbox) == [f"other:{SAM}"]
    assert sorted(on_plain.notifier.inbox) == [f"plain:{LEA}", f"plain:{TOM}"]
    app.engine.dispose()
