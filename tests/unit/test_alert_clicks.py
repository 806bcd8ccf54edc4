"""The alert buttons: who may press them and what a press does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.fakes import ALICE, ANA, BOB, DANA, SAM, FakeUnitOfWork, org_members, org_policy
from workflows.admin import DailyUsage
from workflows.alerts.forms import raise_cap, raise_cap_form, suggested_request
from workflows.alerts.running import run_alerts
from workflows.clicks import Click, press
from workflows.errors import Refusal
from workflows.messages import Verb
from workflows.model import OperationKind, RequestKind

NOW = datetime(2026, 11, 20, 11, tzinfo=UTC)
IDLE = {
    "id": "idle-seat",
    "kind": "idle_seat",
    "warn_after_days": 14,
    "reclaim_after_days": 30,
    "notify": ["user", "admins"],
}
POLICY = org_policy(rules=[IDLE], org={"timezone": "Europe/Berlin"})


def _uow() -> FakeUnitOfWork:
    busy = [
        DailyUsage(m.email, date(2026, 11, 20), 100, 5) for m in org_members() if m.email != ALICE
    ]
    return FakeUnitOfWork(
        members=org_members(), daily=[*busy, DailyUsage(ALICE, date(2026, 10, 10), 100, 5)]
    )


def _click(uow: FakeUnitOfWork, actor: str, verb: Verb, value: str, at: datetime = NOW) -> str:
    return press(uow.factory, POLICY, Click(actor=actor, verb=verb, value=value, now=at)).title


def test_keeping_an_idle_seat_stops_its_reclaim_for_this_spell() -> None:
    uow = _uow()
    run_alerts(uow.factory, POLICY, now=NOW)
    with pytest.raises(Refusal):
        _click(uow, BOB, Verb.KEEP_SEAT, ALICE)
    assert _click(uow, ALICE, Verb.KEEP_SEAT, ALICE) == "You keep your seat"
    fired = run_alerts(uow.factory, POLICY, now=NOW + timedelta(days=30)).fired
    assert all(f.subject != ALICE for f in fired)


def test_releasing_or_reclaiming_queues_one_seat_removal() -> None:
    uow = _uow()
    run_alerts(uow.factory, POLICY, now=NOW)
    with pytest.raises(Refusal, match="Only an admin"):
        _click(uow, DANA, Verb.RECLAIM_SEAT, ALICE)
    _click(uow, ANA, Verb.RECLAIM_SEAT, ALICE)
    _click(uow, ALICE, Verb.RELEASE_SEAT, ALICE)  # same day: the same idempotency key
    (operation,) = uow.all_operations()
    assert operation.kind is OperationKind.REMOVE_SEAT
    assert uow.audit_actions(f"member:{ALICE}") == ["seat.removal_queued", "seat.removal_queued"]


def test_a_nudge_goes_once_a_day_and_only_from_admins_or_owners() -> None:
    uow = _uow()
    with pytest.raises(Refusal):
        _click(uow, BOB, Verb.NUDGE, ALICE)
    assert _click(uow, DANA, Verb.NUDGE, ALICE) == "Nudged Alice Wong"
    assert _click(uow, ANA, Verb.NUDGE, ALICE) == "Alice Wong was nudged today already"
    (nudge,) = uow.sent(ALICE, kind="nudge")
    assert [a.verb for a in nudge.outgoing.message.actions] == [Verb.REQUEST_MORE]
    assert _click(uow, ANA, Verb.NUDGE, ALICE, NOW + timedelta(days=1)) == "Nudged Alice Wong"


def test_open_requests_lists_the_groups_pending_requests() -> None:
    uow = _uow()
    with pytest.raises(Refusal):
        _click(uow, SAM, Verb.OPEN_REQUESTS, "embedded")
    assert _click(uow, DANA, Verb.OPEN_REQUESTS, "embedded") == "0 open requests in embedded"


def test_raise_cap_form_is_prefilled_and_its_submission_queues_the_cap() -> None:
    uow = _uow()
    form = raise_cap_form(uow, POLICY, actor=DANA, email=BOB, now=NOW)
    assert form.cap_cents == 8500
    assert form.max_cap_cents == 40000
    assert form.cap_cents < form.suggested_cap_cents <= 40000
    with pytest.raises(Refusal, match="caps stop at"):
        raise_cap(uow, POLICY, actor=DANA, email=BOB, new_cap="500", now=NOW)
    with pytest.raises(Refusal):
        raise_cap(uow, POLICY, actor=BOB, email=BOB, new_cap="100", now=NOW)
    raise_cap(uow, POLICY, actor=DANA, email=BOB, new_cap="120", now=NOW)
    (operation,) = uow.all_operations()
    assert (operation.kind, operation.cap_cents) == (OperationKind.SET_CAP, 12000)
    assert uow.sent(BOB, kind="cap_raised")


def test_request_more_is_prefilled_with_an_amount_and_a_reason() -> None:
    form = suggested_request(_uow(), POLICY, email=BOB, now=NOW)
    assert form.kind is RequestKind.CAP_INCREASE
    assert int(form.amount) >= 10
    assert "cap spent so far" in form.reason
