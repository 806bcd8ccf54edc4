"""The alert buttons: who may press them and what a press does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.slack.views import modal
from tests.fakes import ALICE, ANA, BOB, DANA, SAM, FakeUnitOfWork, org_members, org_policy
from workflows.admin import DailyUsage, HourlyUsage
from workflows.alerts.forecast import NOT_YET
from workflows.alerts.forms import raise_cap, raise_cap_form, suggested_request
from workflows.alerts.running import run_alerts
from workflows.clicks import Click, press
from workflows.errors import Refusal
from workflows.forms.cap import form_of
from workflows.messages import Verb
from workflows.model import OperationKind, RequestKind
from workflows.policy import Policy
from workflows.status import status_of

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


AFTER_HOURS = {
    "id": "after-hours",
    "kind": "after_hours_spike",
    "min_commands_per_hour": 50,
    "notify": ["admins"],
}
FORECAST = {"id": "forecast", "kind": "forecast_overrun", "notify": ["admins"]}
SPIKE = datetime(2026, 11, 19, 21, tzinfo=UTC)  # 22:00 on Thursday in Berlin


def _nudge_value(uow: FakeUnitOfWork, policy: Policy, rule_id: str) -> str:
    [firing] = [f for f in run_alerts(uow.factory, policy, now=NOW).fired if f.rule.id == rule_id]
    assert firing.action is not None
    assert firing.action.verb is Verb.NUDGE
    return firing.action.value


def _nudge(uow: FakeUnitOfWork, policy: Policy, value: str, at: datetime = NOW) -> str:
    press(uow.factory, policy, Click(actor=ANA, verb=Verb.NUDGE, value=value, now=at))
    [note] = uow.sent(ALICE, kind="nudge")
    return note.outgoing.message.text


def _after_hours() -> tuple[Policy, FakeUnitOfWork]:
    """The after-hours rule, and Alice's 72 commands at 22:00 on Thursday."""
    uow = _uow()
    with uow:
        uow.usage.replace_hourly([HourlyUsage(ALICE, SPIKE, 540, 72)])
        uow.commit()
    return org_policy(rules=[AFTER_HOURS], org={"timezone": "Europe/Berlin"}), uow


def test_a_nudge_on_an_after_hours_alert_is_about_that_hour() -> None:
    policy, uow = _after_hours()
    text = _nudge(uow, policy, _nudge_value(uow, policy, "after-hours"))
    assert text.startswith(
        "Ana Admin asked me to check in with you about 72 commands ($5.40) in the hour from"
        " 22:00 on Thu 19 Nov, outside business hours."
    )
    assert "you've spent" not in text


def test_a_nudge_on_a_forecast_alert_is_about_the_months_spend() -> None:
    policy = org_policy(rules=[FORECAST], org={"timezone": "Europe/Berlin"})
    uow = FakeUnitOfWork(
        members=org_members(), daily=[DailyUsage(ALICE, date(2026, 11, 2), 8000, 9)]
    )
    text = _nudge(uow, policy, _nudge_value(uow, policy, "forecast"))
    assert "you've spent $80 this month against your $85 cap, and you are on course for" in text


def test_a_nudge_before_a_projection_can_be_made_says_so() -> None:
    first_morning = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # Tuesday 1 December, 08:30
    uow = FakeUnitOfWork(
        members=org_members(), daily=[DailyUsage(ALICE, date(2026, 12, 1), 120, 9)]
    )
    text = _nudge(uow, POLICY, ALICE, first_morning)
    assert "you've spent $1.20 this month against your $85 cap, and it is too early" in text
    assert "on course for $1.20" not in text


@pytest.mark.parametrize(
    "value",
    ["after_hours " + ALICE, "after_hours soon " + ALICE, f"forecast x {ALICE}", " ", "a b"],
)
def test_a_nudge_value_capdesk_did_not_write_is_an_invalid_button(value: str) -> None:
    with pytest.raises(Refusal, match="This button is not valid"):
        _click(_uow(), ANA, Verb.NUDGE, value)


def test_one_nudge_a_day_on_each_topic() -> None:
    policy, uow = _after_hours()
    spike = _nudge_value(uow, policy, "after-hours")
    assert _click(uow, ANA, Verb.NUDGE, spike) == "Nudged Alice Wong"
    assert _click(uow, DANA, Verb.NUDGE, spike) == "Alice Wong was nudged today already"
    assert _click(uow, DANA, Verb.NUDGE, ALICE) == "Nudged Alice Wong"


def test_before_a_projection_the_forms_and_the_status_say_none_is_made_yet() -> None:
    first_morning = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    uow = FakeUnitOfWork(
        members=org_members(), daily=[DailyUsage(ALICE, date(2026, 12, 1), 120, 9)]
    )
    form = suggested_request(uow, POLICY, email=ALICE, now=first_morning)
    assert form.reason == "$1.20 of my $85 cap spent so far"
    assert form.amount == "20"  # a fifth of the cap, rounded up to $10
    cap = raise_cap_form(uow, POLICY, actor=ANA, email=ALICE, now=first_morning)
    assert cap.projected_cents is None
    assert "no projection yet" in str(modal(form_of(cap)))
    status = status_of(uow, POLICY, email=ALICE, now=first_morning)
    facts = {f.label: f.value for f in status.facts}
    assert facts["Projected month end"] == NOT_YET
    assert status.text == f"Projected month end: {NOT_YET}."
