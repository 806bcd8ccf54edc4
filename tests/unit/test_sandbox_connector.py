"""The sandbox connector: reads with the recorded changes on top, idempotent writes, restarts."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.connectors.sandbox import (
    SANDBOX_TIERS,
    MemorySandboxState,
    SandboxConnector,
    SandboxOrg,
    SeatOverride,
    generate_org,
)
from workflows.admin import (
    AdminConnector,
    Capability,
    PermanentConnectorError,
    RemoteMember,
    backend_groups,
)

TODAY = date(2026, 11, 20)
EVE = "eve.novak@example.com"
TOM = "tom.becker@example.com"
NOBODY = "nobody@example.com"


@functools.cache
def sandbox_org() -> SandboxOrg:
    return generate_org(7, today=TODAY)


@pytest.fixture
def state() -> MemorySandboxState:
    return MemorySandboxState()


@pytest.fixture
def connector(state: MemorySandboxState) -> AdminConnector:
    return SandboxConnector(sandbox_org(), state)


def member(connector: AdminConnector, email: str) -> RemoteMember:
    return next(m for m in connector.list_members() if m.email == email)


def test_declares_everything_it_can_do(connector: AdminConnector) -> None:
    assert connector.name == "sandbox"
    # Everything but native increase requests (the sandbox has no product to ask in) and caps
    # per period that members inherit (its caps are monthly and its own).
    assert connector.capabilities == frozenset(Capability) - {
        Capability.NATIVE_REQUESTS,
        Capability.INHERITED_CAPS,
    }


def test_offers_its_five_groups_as_an_enterprise_org_does(connector: AdminConnector) -> None:
    source = backend_groups(connector)
    assert source is not None

    groups = list(source.list_groups())

    assert [(g.id, g.name) for g in groups] == [
        ("rbac_group_electronics", "Electronics"),
        ("rbac_group_embedded", "Embedded"),
        ("rbac_group_software", "Software"),
        ("rbac_group_systems", "Systems"),
        ("rbac_group_project_management", "Project management"),
    ]
    embedded = {p.email for p in sandbox_org().members_of("embedded")}
    assert set(groups[1].members) == embedded
    assert sum(len(g.members) for g in groups) == len(sandbox_org().people)
    assert SANDBOX_TIERS == ("standard", "premium")


def test_lists_the_generated_org_as_it_is(connector: AdminConnector) -> None:
    members = list(connector.list_members())
    people = sandbox_org().people
    assert [m.email for m in members] == [p.email for p in people]
    assert all(m.active for m in members)
    assert [(m.tier, m.monthly_cap_cents) for m in members] == [
        (p.tier, p.cap_cents) for p in people
    ]
    assert len({m.external_id for m in members}) == len(members)
    assert member(connector, EVE).name == "Eve Novak"


def test_a_cap_set_is_visible_in_the_next_listing(connector: AdminConnector) -> None:
    connector.set_cap(EVE, 15000, idempotency_key="req-1:apply")
    assert member(connector, EVE).monthly_cap_cents == 15000
    assert member(connector, TOM).monthly_cap_cents == 15000  # software's default, untouched
    assert member(connector, EVE).tier == "standard"


def test_a_repeated_key_changes_nothing(
    connector: AdminConnector, state: MemorySandboxState
) -> None:
    connector.set_cap(EVE, 15000, idempotency_key="req-1:apply")
    connector.set_cap(EVE, 30000, idempotency_key="req-1:apply")
    connector.set_tier(EVE, "premium", idempotency_key="req-1:apply")
    assert (member(connector, EVE).monthly_cap_cents, member(connector, EVE).tier) == (
        15000,
        "standard",
    )
    assert state.applied_keys == {"req-1:apply"}


def test_changes_survive_a_restart(state: MemorySandboxState) -> None:
    before = SandboxConnector(sandbox_org(), state)
    before.set_cap(EVE, 12000, idempotency_key="req-2:apply")
    before.set_tier(TOM, "premium", idempotency_key="req-3:apply")
    after = SandboxConnector(generate_org(7, today=TODAY), state)
    assert member(after, EVE).monthly_cap_cents == 12000
    assert member(after, TOM).tier == "premium"
    after.set_cap(EVE, 99999, idempotency_key="req-2:apply")
    assert member(after, EVE).monthly_cap_cents == 12000


def test_emails_match_whatever_their_case(connector: AdminConnector) -> None:
    connector.set_tier("Eve.Novak@Example.COM", "premium", idempotency_key="k")
    assert member(connector, EVE).tier == "premium"


def test_an_unknown_email_is_a_permanent_error(
    connector: AdminConnector, state: MemorySandboxState
) -> None:
    with pytest.raises(
        PermanentConnectorError, match=re.escape("has no member nobody@example.com.")
    ):
        connector.set_cap(NOBODY, 1000, idempotency_key="k1")
    with pytest.raises(PermanentConnectorError, match=re.escape(NOBODY)):
        connector.set_tier(NOBODY, "premium", idempotency_key="k2")
    with pytest.raises(PermanentConnectorError, match=re.escape(NOBODY)):
        connector.remove_seat(NOBODY, idempotency_key="k3")
    assert state.applied_keys == frozenset()


def test_an_unknown_tier_is_a_permanent_error(
    connector: AdminConnector, state: MemorySandboxState
) -> None:
    with pytest.raises(
        PermanentConnectorError, match=r"no seat tier 'platinum'; its tiers are standard, premium\."
    ):
        connector.set_tier(EVE, "platinum", idempotency_key="k")
    assert state.applied_keys == frozenset()
    assert member(connector, EVE).tier == "standard"


def test_a_negative_cap_is_a_permanent_error(connector: AdminConnector) -> None:
    with pytest.raises(PermanentConnectorError, match="negative"):
        connector.set_cap(EVE, -1, idempotency_key="k")


def test_removing_a_seat_makes_the_member_inactive(connector: AdminConnector) -> None:
    connector.remove_seat(TOM, idempotency_key="reclaim:tom")
    assert member(connector, TOM).active is False
    assert member(connector, EVE).active is True
    connector.set_cap(TOM, 1000, idempotency_key="later")
    assert member(connector, TOM).active is False


def test_daily_usage_is_filtered_by_day_inclusive(connector: AdminConnector) -> None:
    since, until = TODAY - timedelta(days=6), TODAY - timedelta(days=2)
    rows = list(connector.daily_usage(since, until))
    assert {u.day for u in rows} == {since + timedelta(days=n) for n in range(5)}
    assert rows == [u for u in sandbox_org().daily if since <= u.day <= until]


def test_hourly_usage_is_filtered_half_open(connector: AdminConnector) -> None:
    since = datetime(2026, 11, 18, 9, tzinfo=UTC)
    until = since + timedelta(hours=3)
    rows = list(connector.hourly_usage(since, until))
    assert rows
    assert {u.hour for u in rows} == {since + timedelta(hours=n) for n in range(3)}
    assert list(connector.hourly_usage(since, since)) == []


def test_memory_state_records_a_key_once_and_merges_fields(state: MemorySandboxState) -> None:
    assert state.record(key="a", email=EVE, cap_cents=12000) is True
    assert state.record(key="a", email=EVE, cap_cents=20000) is False
    assert state.record(key="b", email=EVE, tier="premium") is True
    assert state.record(key="c", email=EVE, removed=True) is True
    assert state.record(key="d", email=EVE, cap_cents=13000) is True
    assert state.overrides() == {EVE: SeatOverride(tier="premium", cap_cents=13000, removed=True)}
    assert state.applied_keys == {"a", "b", "c", "d"}


def test_memory_state_hands_out_a_copy(state: MemorySandboxState) -> None:
    state.record(key="a", email=EVE, cap_cents=12000)
    snapshot = state.overrides()
    state.record(key="b", email=TOM, cap_cents=1000)
    assert set(snapshot) == {EVE}
