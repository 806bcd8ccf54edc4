"""The sandbox connector agrees with the generic contract (manifests/admin-api.openapi.yaml).

The sandbox is Python, not HTTP, so agreeing means the same semantics: the same changes,
made through each, leave the same members behind, a repeated idempotency key applies once,
and what the contract answers with 400 or 404 is a permanent error in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from bot.connectors import http
from bot.connectors.sandbox import MemorySandboxState, SandboxConnector, generate_org
from tests.connectors.fake_contract import TOKEN, FakeContract
from tests.connectors.server import Served
from workflows.admin import AdminConnector, PermanentConnectorError, RemoteMember

ORG = generate_org(7, today=date(2026, 11, 20))
PEOPLE = ORG.people[:4]


def sandbox() -> Iterator[AdminConnector]:
    yield SandboxConnector(ORG, MemorySandboxState())


def contract() -> Iterator[AdminConnector]:
    fake = FakeContract(tiers=("standard", "premium"))
    for person in PEOPLE:
        fake.add_member(person.email, person.name, cap=person.cap_cents)
        fake.members[person.email]["tier"] = person.tier
    with Served(fake) as server:
        yield http.build(server.url, TOKEN)


def seats(members: list[RemoteMember]) -> dict[str, tuple[str, int | None, bool]]:
    wanted = {p.email for p in PEOPLE}
    return {m.email: (m.tier, m.monthly_cap_cents, m.active) for m in members if m.email in wanted}


@pytest.fixture(params=[sandbox, contract], ids=["sandbox", "http"])
def connector(request: pytest.FixtureRequest) -> Iterator[AdminConnector]:
    make: Callable[[], Iterator[AdminConnector]] = request.param
    yield from make()


def test_the_same_changes_leave_the_same_seats(connector: AdminConnector) -> None:
    a, b, c, _ = PEOPLE

    connector.set_cap(a.email, 23500, idempotency_key="k1")
    connector.set_cap(a.email, 23500, idempotency_key="k1")
    connector.set_tier(b.email, "premium", idempotency_key="k2")
    connector.remove_seat(c.email, idempotency_key="k3")

    after = seats(list(connector.list_members()))
    assert after[a.email][1] == 23500
    assert after[b.email][0] == "premium"
    assert after[c.email][2] is False  # still listed, inactive
    assert len(after) == 4


def test_refusals_are_permanent_in_both(connector: AdminConnector) -> None:
    person = PEOPLE[0]
    with pytest.raises(PermanentConnectorError):
        connector.set_cap("nobody@example.com", 100, idempotency_key="k1")  # 404
    with pytest.raises(PermanentConnectorError):
        connector.set_cap(person.email, -1, idempotency_key="k2")  # 400
    with pytest.raises(PermanentConnectorError):
        connector.set_tier(person.email, "platinum", idempotency_key="k3")  # 400
    assert seats(list(connector.list_members()))[person.email][1] == person.cap_cents
