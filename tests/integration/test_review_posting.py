"""The quarterly review posted at the start of a quarter: to each group's owners and to the
admins, once, whatever the replicas and restarts; and the scheduled job that posts it."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import Engine

from bot.bootstrap import Capdesk
from bot.charts import render_png
from bot.scheduling import build_scheduler
from bot.scheduling.leadership import SoleLeader
from bot.settings import load_settings
from tests.fakes import FakeConnector, FakeNotifier
from tests.integration.race import race
from tests.integration.small_org import ANA, DANA, LEA, SAM, SmallOrg, berlin, build
from workflows.clock import ManualClock
from workflows.delivery import deliver_pending
from workflows.messages import Message, Recipient
from workflows.reports.posting import post_quarterly_reviews

EVERYONE = ["admin", "group:embedded", "group:software"]


def new_year(day: int = 1, hour: int = 9, minute: int = 30) -> datetime:
    return berlin(1, day, hour, minute, year=2027)


@pytest.fixture
def small(engine: Engine) -> SmallOrg:
    return build(engine)


def post(org: SmallOrg, now: datetime) -> list[str]:
    return post_quarterly_reviews(org.uow, org.policy, now=now)


def delivered(org: SmallOrg, now: datetime) -> dict[str, Message]:
    notifier = FakeNotifier()
    deliver_pending(org.uow, notifier, ManualClock(now))
    return {
        d.outgoing.recipient.address: d.outgoing.message
        for d in notifier.delivered
        if d.outgoing.message.kind == "quarterly_review"
    }


def facts(message: Message) -> dict[str, str]:
    return {f.label: f.value for f in message.facts}


def test_the_review_of_the_quarter_just_ended_goes_to_owners_and_admins_once(
    small: SmallOrg,
) -> None:
    assert post(small, new_year(hour=8, minute=59)) == []
    assert post(small, new_year()) == EVERYONE
    assert post(small, new_year(minute=45)) == []
    sent = delivered(small, new_year())
    # No channels in this policy: each owner and each admin directly.
    assert sorted(sent) == sorted([ANA, DANA, SAM, LEA])
    software = sent[SAM]
    assert sent[LEA] == software
    assert software.title == "Quarterly review of software · 2026Q4"
    assert software.text.startswith("1 Oct to 31 Dec 2026: ")
    assert facts(software) == {
        "Requests": "4: 2 approved, 1 denied, 1 pending",
        "Approval rate": "66%",
        "Time to decision": "median 4h · 90% within 24h",
        "Auto-approvals": "0",
        "Self-approvals refused": "1",
        "Grants ended on time": "0 of 1 · not on time: Tom Becker (#3)",
        "Use cases": "1 asked · 0 answered · 1 skipped · 0 not answered yet",
        "Spend": "$183",
    }
    assert [s.text for s in software.sections] == [
        "Decisions per approver",
        "Lea Brandt: 0 approved, 1 denied (1 standing in)",
        "Sam Ortiz: 2 approved, 0 denied",
        "Use cases by member",
        "Tom Becker (member): asked 1, answered 0, skipped 1",
    ]
    assert software.chart is not None
    bars = {b.label: (b.value_cents, b.limit_cents) for b in software.chart.panels[0].bars}
    # Spend in the quarter against the three months' caps; Tom had a grant in it.
    assert bars == {
        "Tom Becker (grant)": (17000, 30000),
        "Sam Ortiz": (1000, 30000),
        "Lea Brandt": (300, 10000 + 14000 + 14000),
    }
    assert render_png(software.chart).startswith(b"\x89PNG")
    admins = sent[ANA]
    assert admins.title == "Quarterly review of all groups · 2026Q4"
    lines = [s.text for s in admins.sections]
    assert "Approval rate: embedded 100% · software 66%" in lines
    assert "Grants ended on time: embedded 2/2 · software 0/1" in lines
    assert lines[-2:] == ["Grants not reverted on time", "software: Tom Becker (#3, cap_increase)"]
    assert admins.chart is not None
    [panel] = admins.chart.panels
    # embedded has a $1,000 budget a month: three months of it.
    assert [(b.label, b.value_cents, b.limit_cents) for b in panel.bars] == [
        ("embedded", 7000, 300000),
        ("software", 18300, None),
    ]


def test_replicas_posting_at_once_post_each_review_once(small: SmallOrg) -> None:
    outcomes = race(lambda: post(small, new_year()), lambda: post(small, new_year()))
    assert sorted(a for posted in outcomes for a in posted) == EVERYONE
    assert len(delivered(small, new_year())) == 4


def test_a_server_down_at_the_start_of_the_quarter_posts_within_the_week(
    small: SmallOrg,
) -> None:
    assert post(small, new_year(day=5, hour=14)) == EVERYONE
    assert post(small, new_year(day=6)) == []
    assert post(small, berlin(4, 8, 10, year=2027)) == []  # the next quarter: outside its week


def test_the_scheduled_job_posts_and_delivers_the_review(small: SmallOrg) -> None:
    url = small.engine.url.render_as_string(hide_password=False)
    app = Capdesk(
        settings=load_settings({"CAPDESK_DATABASE_URL": url}),
        engine=small.engine,
        policy=small.policy,
        connector=FakeConnector(),
        clock=ManualClock(new_year()),
    )
    notifier = FakeNotifier()

    async def scenario() -> None:
        scheduler = build_scheduler(app, notifier=notifier, leadership=SoleLeader())
        await scheduler.start()
        try:
            await scheduler.run_now("quarterly-review")
            await scheduler.run_now("quarterly-review")
        finally:
            await scheduler.stop()

    asyncio.run(scenario())
    reviews = [
        d.outgoing for d in notifier.delivered if d.outgoing.message.kind == "quarterly_review"
    ]
    assert sorted(o.recipient.address for o in reviews) == sorted([ANA, DANA, SAM, LEA])
    assert all(o.recipient == Recipient.member(o.recipient.address) for o in reviews)
