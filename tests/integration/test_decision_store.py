"""What a decision asks of the store, on both databases: `settle` moves the request and reads
what follows in one statement, `add_all` queues every message in one more, and a whole
decision stays within six round trips (seven on SQLite, whose BEGIN is a statement)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import event

from tests.integration import world
from tests.integration.world import DANA, EVE, T0, Org, firmware, uows
from workflows.admin import DailyUsage
from workflows.messages import Message, Outgoing, Recipient
from workflows.model import RequestStatus, Verdict
from workflows.requests.deciding import decide
from workflows.telemetry.model import HourFigures

MONTH_START = date(2026, 11, 1)


def _settle(org: Org, request_id: int, **overrides: Any) -> Any:
    options: dict[str, Any] = {
        "new": RequestStatus.APPROVED,
        "actor": DANA,
        "at": T0,
        "note": "ship it",
        "since": MONTH_START,
        "single_approval": True,
    }
    options.update(overrides)
    with uows(org.engine)() as uow:
        settled = uow.requests.settle(request_id, **options)
        uow.commit()
    return settled


def test_settle_moves_the_request_and_reads_the_requesters_standing(org: Org) -> None:
    with uows(org.engine)() as uow:
        uow.usage.replace_daily(
            [
                DailyUsage(EVE, date(2026, 10, 31), 9999, 1),  # last month: not counted
                DailyUsage(EVE, date(2026, 11, 2), 1200, 3),
                DailyUsage(EVE, date(2026, 11, 19), 800, 2),
                DailyUsage(firmware(0), date(2026, 11, 19), 5000, 9),
            ]
        )
        uow.commit()
    earlier = world.ask(org.engine, "raise 150 release prep")
    world.approve(org.engine, earlier.id)  # queued: Eve's cap goes to $235
    other = world.ask(org.engine, "raise 300 big one", requester=firmware(0))
    world.approve(org.engine, other.id)
    asked = world.ask(org.engine, "raise 50 more test runs")

    settled = _settle(org, asked.id)

    assert settled.request.id == asked.id
    assert settled.request.status is RequestStatus.APPROVED
    assert (settled.request.decided_by, settled.request.decision_note) == (DANA, "ship it")
    assert settled.requester == world.member(org.engine, EVE)
    assert settled.decider_name == "Dana"
    assert settled.spent_cents == 2000
    assert settled.requests_made == 2  # Eve's two, not the other member's
    assert settled.queued_cap_cents == world.CAP + 15000
    assert world.request(org.engine, asked.id).status is RequestStatus.APPROVED


def test_settle_leaves_alone_what_it_may_not_move(org: Org) -> None:
    two_needed = world.ask(org.engine, "raise 150 release prep", requester=world.systems(0))
    assert _settle(org, two_needed.id) is None
    assert world.request(org.engine, two_needed.id).status is RequestStatus.PENDING

    denied = _settle(org, two_needed.id, new=RequestStatus.DENIED, single_approval=False)
    assert denied.request.status is RequestStatus.DENIED
    assert denied.requester is not None
    assert (denied.requester.email, denied.decider_name) == (world.systems(0), "Dana")

    assert _settle(org, two_needed.id, new=RequestStatus.DENIED, single_approval=False) is None
    assert _settle(org, 999) is None

    own = world.ask(org.engine, "raise 50 more test runs")
    assert _settle(org, own.id, actor=EVE) is None  # never the requester's own
    assert world.request(org.engine, own.id).status is RequestStatus.PENDING


def test_settle_reads_the_telemetry_estimate_where_the_backend_has_no_day(org: Org) -> None:
    with uows(org.engine)() as uow:
        uow.usage.replace_daily([DailyUsage(EVE, date(2026, 11, 2), 1200, 3)])
        uow.telemetry.add_hours(
            [
                HourFigures(
                    EVE, T0.replace(minute=0, second=0, microsecond=0), {"cost_micros": 4_500_000}
                )
            ],
            at=T0,
        )
        uow.commit()
    asked = world.ask(org.engine, "raise 50 more test runs")

    settled = _settle(org, asked.id)

    with uows(org.engine)() as uow:
        assert settled.spent_cents == uow.usage.spend_since(EVE, MONTH_START) == 1200 + 450


def test_add_all_copies_each_update_to_everyone_its_thread_went_to(org: Org) -> None:
    first = Message(kind="approval", title="first")
    with uows(org.engine)() as uow:
        for to in (DANA, world.OLAF, DANA):
            uow.notifications.add(
                Outgoing(recipient=Recipient.member(to), message=first, thread_key="card"), at=T0
            )
        uow.commit()
    later = T0 + timedelta(minutes=1)
    update, never, told = (Message(kind="approval", title=t) for t in ("update", "x", "told"))
    dm = Outgoing(recipient=Recipient.member(EVE), message=told)

    with uows(org.engine)() as uow:
        uow.notifications.add_all([dm], to_threads=[("card", update), ("unsent", never)], at=later)
        uow.commit()

    with uows(org.engine)() as uow:
        queued = uow.notifications.claim_due(later, lease_until=later, limit=100)
    fresh = sorted(
        (p.outgoing.recipient.address, p.outgoing.thread_key, p.outgoing.message.title)
        for p in queued
        if p.outgoing.message.title != "first"
    )
    assert fresh == [(DANA, "card", "update"), (EVE, None, "told"), (world.OLAF, "card", "update")]


def _statements(org: Org, run: Any) -> int:
    count = [0]

    def counted(*_: Any) -> None:
        count[0] += 1

    event.listen(org.engine, "before_cursor_execute", counted)
    event.listen(org.engine, "commit", counted)
    try:
        run()
    finally:
        event.remove(org.engine, "before_cursor_execute", counted)
        event.remove(org.engine, "commit", counted)
    return count[0]


def test_a_decision_takes_six_round_trips(org: Org) -> None:
    begin = 1 if org.dialect == "sqlite" else 0  # SQLite's BEGIN IMMEDIATE is a statement
    approved = world.ask(org.engine, "raise 150 release prep")
    denied = world.ask(org.engine, "raise 150 release prep", requester=firmware(1))

    assert _statements(org, lambda: world.approve(org.engine, approved.id)) == 6 + begin
    assert (
        _statements(
            org,
            lambda: decide(
                uows(org.engine)(),
                world.policy(),
                request_id=denied.id,
                actor=DANA,
                verdict=Verdict.DENY,
                now=T0,
                note="not now",
            ),
        )
        == 5 + begin  # nothing to apply
    )
    assert world.request(org.engine, approved.id).status is RequestStatus.APPROVED
    assert world.request(org.engine, denied.id).status is RequestStatus.DENIED
