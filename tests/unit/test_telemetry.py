"""Counting Claude Code's telemetry: temporality, resends, resets, refusals, unknown e-mails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tests.fakes import FakeUnitOfWork, org_members, org_policy
from workflows.policy import Policy
from workflows.ports import GroupRecord
from workflows.telemetry.counting import increment, next_in_sequence
from workflows.telemetry.ingest import forget_seen, ingest
from workflows.telemetry.model import (
    NEW_SERIES,
    Batch,
    LogEvent,
    MetricPoint,
    SeriesState,
    Temporality,
)

NOW = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
HOUR = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
S = 1_000_000_000


def ns(at: datetime) -> int:
    return int(at.timestamp()) * S


def cost(
    value: float,
    *,
    start: datetime,
    end: datetime,
    temporality: Temporality = Temporality.DELTA,
    email: str = "",
    resource: dict[str, str] | None = None,
) -> MetricPoint:
    return MetricPoint(
        metric="claude_code.cost.usage",
        temporality=temporality,
        monotonic=True,
        attributes={"user.email": email, "session.id": "s1"} if email else {"session.id": "s1"},
        resource=resource or {},
        start_ns=ns(start),
        time_ns=ns(end),
        value=value,
    )


def test_a_delta_point_counts_once() -> None:
    point = cost(0.5, start=HOUR, end=HOUR + timedelta(minutes=1))
    amount, after = increment(point, NEW_SERIES) or (0.0, NEW_SERIES)
    assert amount == 0.5
    assert increment(point, after) is None


def _total(value: float, start: datetime, minutes: int) -> MetricPoint:
    end = HOUR + timedelta(minutes=minutes)
    return cost(value, start=start, end=end, temporality=Temporality.CUMULATIVE)


def _counted(point: MetricPoint, state: SeriesState) -> tuple[float, SeriesState]:
    step = increment(point, state)
    assert step is not None
    return step


def test_a_cumulative_series_counts_its_differences_and_starts_again_after_a_reset() -> None:
    amount, state = _counted(_total(1.0, HOUR, 1), NEW_SERIES)
    assert amount == 1.0
    later = _total(1.75, HOUR, 2)
    amount, state = _counted(later, state)
    assert amount == pytest.approx(0.75)
    assert increment(later, state) is None  # sent twice
    assert _counted(_total(0.5, HOUR, 3), state)[0] == 0.5  # went down: a reset
    amount, restarted = _counted(_total(0.25, HOUR + timedelta(minutes=3), 4), state)
    assert amount == 0.25
    assert increment(_total(9.0, HOUR, 9), restarted) is None  # from before the restart


def test_events_of_a_session_count_once_by_their_sequence() -> None:
    state = next_in_sequence(0, NEW_SERIES)
    assert state == SeriesState(position=1)
    assert next_in_sequence(0, state) is None
    assert next_in_sequence(1, state) == SeriesState(position=2)
    assert next_in_sequence(None, state) == state


def _ingest(uow: FakeUnitOfWork, policy: Policy, *batches: Batch) -> list[tuple[int, int]]:
    with uow:
        outcomes = ingest(uow, policy, list(batches), now=NOW)
        uow.commit()
    return [(o.accepted, o.rejected) for o in outcomes]


def test_ingest_counts_members_refuses_bad_points_and_keeps_unknown_emails_apart() -> None:
    member = org_members()[0].email
    uow = FakeUnitOfWork(members=org_members())
    policy = org_policy()
    good = cost(0.42, start=HOUR, end=HOUR + timedelta(minutes=1), email=member)
    future = cost(1.0, start=NOW, end=NOW + timedelta(hours=1), email=member)
    unspecified = (
        MetricPoint(**{**good.__dict__, "temporality": Temporality.UNSPECIFIED})
        if False
        else cost(
            0.1,
            start=HOUR,
            end=HOUR + timedelta(minutes=2),
            temporality=Temporality.UNSPECIFIED,
            email=member,
        )
    )
    stranger = cost(2.0, start=HOUR, end=HOUR + timedelta(minutes=1), email="Who@Else.example")
    prompt = LogEvent(
        names=("claude_code.user_prompt", "user_prompt"),
        attributes={"user.email": member, "session.id": "s1", "event.sequence": "4", "prompt": "x"},
        resource={},
        time_ns=ns(HOUR + timedelta(minutes=5)),
    )
    batch = Batch(
        digest="b1", points=(good, future, unspecified, stranger), events=(prompt,), ignored=3
    )
    assert _ingest(uow, policy, batch) == [(6, 2)]
    assert _ingest(uow, policy, batch) == [(8, 0)]  # the same body again: acknowledged only
    with uow:
        [hour] = uow.telemetry.hours(member, HOUR)
        [unknown] = uow.telemetry.unmatched_to_report(now=NOW)
        assert uow.telemetry.unmatched_to_report(now=NOW) == []
        uow.commit()
    assert hour.values == {"cost_micros": 420_000, "prompts": 1}
    assert (unknown.email, unknown.points, unknown.cost_micros) == (
        "who@else.example",
        1,
        2_000_000,
    )
    assert uow.usage.spend_since(member, HOUR.date()) == 42
    assert uow.usage.estimated_since(member, HOUR.date()) == 42


def test_a_resource_attribute_puts_unknown_emails_in_a_group() -> None:
    policy = org_policy(
        telemetry={"group_attribute": "cost_center", "groups": {"eng-emb": "embedded"}}
    )
    uow = FakeUnitOfWork(members=org_members())
    point = cost(
        3.0,
        start=HOUR,
        end=HOUR + timedelta(minutes=1),
        email="contractor@elsewhere.example",
        resource={"cost_center": "eng-emb"},
    )
    _ingest(uow, policy, Batch(digest="b2", points=(point,)))
    with uow:
        [unknown] = uow.telemetry.unmatched_to_report(now=NOW)
        uow.commit()
    assert unknown.group == "embedded"
    with uow:
        uow.groups.replace_all([GroupRecord("embedded", 8500, 40000, 100_000, (), ())])
        uow.commit()
    month = HOUR.date().replace(day=1)
    [group] = uow.alerts.groups(month_start=month, today=HOUR.date())
    assert (group.name, group.spent_cents) == ("embedded", 300)


def test_the_policy_refuses_a_telemetry_group_that_does_not_exist() -> None:
    with pytest.raises(ValidationError, match="names 'embeded', which is no group"):
        org_policy(telemetry={"group_attribute": "cost_center", "groups": {"x": "embeded"}})
    with pytest.raises(ValidationError, match="groups needs group_attribute"):
        org_policy(telemetry={"groups": {"x": "embedded"}})


def test_old_digests_and_silent_series_are_forgotten() -> None:
    uow = FakeUnitOfWork(members=org_members())
    point = cost(0.1, start=HOUR, end=HOUR + timedelta(minutes=1), email=org_members()[0].email)
    _ingest(uow, org_policy(), Batch(digest="b3", points=(point,)))
    with uow:
        assert forget_seen(uow, now=NOW + timedelta(days=3)) == 2
        uow.commit()
