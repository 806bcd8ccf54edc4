"""The org the integration tests run on, shared by the tests and their child processes."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from store.engine import make_engine
from store.tables import OperationRow, table
from store.uow import SqlUnitOfWork, uow_factory
from tests.integration.connectors import FileBackend
from workflows.admin import AdminConnector
from workflows.applying.backoff import RetryPolicy
from workflows.applying.pool import DEFAULT_CONCURRENCY
from workflows.applying.worker import OperationWorker
from workflows.clock import Clock, ManualClock
from workflows.model import Member, Operation, Request, Verdict
from workflows.policy import Policy, parse_policy
from workflows.requests.asking import submit_request
from workflows.requests.deciding import decide
from workflows.requests.grammar import RequestDraft, parse_command

POLICY_YAML = """
org: {timezone: Europe/Berlin}
admins: [ana@example.com]
groups:
  - name: embedded
    owners: [dana@example.com, olaf@example.com]
    members: [eve@example.com, "*@firmware.example.com"]
    default_cap_usd: 85
    max_cap_usd: 400
    auto_approve_under_usd: 25
  - name: systems
    owners: [dana@example.com, olaf@example.com]
    members: ["*@systems.example.com"]
    default_cap_usd: 85
    max_cap_usd: 400
    approvals_required: 2
"""

ADMIN = "ana@example.com"
DANA, OLAF = "dana@example.com", "olaf@example.com"
EVE = "eve@example.com"
CAP = 8500
T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
"""A Friday, 13:00 in Berlin: the moment every test starts at."""


@functools.cache
def policy() -> Policy:
    return parse_policy(POLICY_YAML)


def firmware(n: int) -> str:
    """The n-th extra member of `embedded` (matched by its `*@firmware` pattern)."""
    return f"m{n}@firmware.example.com"


def systems(n: int) -> str:
    """The n-th member of `systems`, where a request needs two approvals."""
    return f"s{n}@systems.example.com"


def members() -> list[Member]:
    people = [
        (ADMIN, "Ana"),
        (DANA, "Dana"),
        (OLAF, "Olaf"),
        (EVE, "Eve"),
        *((firmware(n), f"M{n}") for n in range(12)),
        *((systems(n), f"S{n}") for n in range(6)),
    ]
    return [Member(email=e, name=n, tier="standard", cap_cents=CAP) for e, n in people]


UowFactory = Callable[[], SqlUnitOfWork]


@dataclass
class Org:
    """A test's org: capdesk's store with the members, the admin backend, and the time."""

    dialect: str
    url: str
    engine: Engine
    backend: FileBackend
    clock: ManualClock


def uows(engine: Engine) -> UowFactory:
    """A fresh unit of work per call, as the application builds them."""
    factory = uow_factory(engine)
    return lambda: SqlUnitOfWork(factory)


def engine_for(url: str) -> Engine:
    """The engine a child process builds from the URL its parent handed over."""
    return make_engine(url)


def seed(engine: Engine) -> None:
    with uows(engine)() as uow:
        for member in members():
            uow.members.upsert(member)
        uow.commit()


def draft(text: str, now: datetime) -> RequestDraft:
    command = parse_command(
        text,
        now=now,
        zone=policy().org.zone,
        longest_days=policy().requests.max_duration_days,
    )
    assert isinstance(command, RequestDraft)
    return command


def ask(engine: Engine, text: str, *, requester: str = EVE, now: datetime = T0) -> Request:
    """A member's `/capdesk raise ...` or `/capdesk upgrade ...`."""
    return submit_request(
        uows(engine)(), policy(), requester=requester, draft=draft(text, now), now=now
    )


def approve(engine: Engine, request_id: int, *, by: str = DANA, now: datetime = T0) -> Request:
    return decide(
        uows(engine)(), policy(), request_id=request_id, actor=by, verdict=Verdict.APPROVE, now=now
    )


def worker(
    engine: Engine,
    connector: AdminConnector,
    clock: Clock,
    *,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> OperationWorker:
    return OperationWorker(
        uow_factory=uows(engine),
        connector=connector,
        policy=policy(),
        clock=clock,
        retry=retry,
        rng=rng,
        concurrency=concurrency,
    )


def operations_of(engine: Engine, request_id: int | None = None) -> list[Operation]:
    """Every outbox entry of a request (apply and revert), or of all, oldest first."""
    operations = table(OperationRow)
    query = select(operations.c.id).order_by(operations.c.id)
    if request_id is not None:
        query = query.where(operations.c.request_id == request_id)
    with uows(engine)() as uow:
        ids = uow.session.execute(query).scalars()
        found = [uow.operations.get(i) for i in ids]
    return [op for op in found if op is not None]


def request(engine: Engine, request_id: int) -> Request:
    with uows(engine)() as uow:
        found = uow.requests.get(request_id)
    assert found is not None
    return found


def member(engine: Engine, email: str) -> Member:
    with uows(engine)() as uow:
        found = uow.members.get(email)
    assert found is not None
    return found
