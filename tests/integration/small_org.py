"""A small organisation with one quarter of history, built through the real workflow, for the
reports' tests: every figure they check is worked out by hand below.

Two groups (embedded, ENG-HW; software, ENG-SW), Ana the admin in none, a premium pool of two
seats held by Max and Sam. In 2026Q4, on Berlin time:

embedded (owner Dana)
  #1 Eve   raise 100 for 14d   Oct 5 09:00, Dana approves 11:00 (2h), reverted on time
  #2 Eve   raise 10            Oct 6 09:00, approved by the policy (under $20)
  #5 Eve   upgrade premium 10d Nov 2 10:00 (the pool is full), Dana approves 11:00 (1h),
           reverted on time
  #6 Max   raise 50            Nov 3 10:00, cancelled by Max
software (owners Sam and Lea)
  #3 Tom   raise 200 for 7d    Oct 7 10:00, Sam approves 14:00 (4h), reverted two days late
  #4 Tom   raise 50            Oct 8 10:00, Tom clicks Approve himself (refused); Sam is away
           from Oct 8 12:00 with Lea standing in, back Oct 10 12:00; Lea denies Oct 9 10:00 (24h)
  #7 Lea   raise 40            Nov 4 10:00, Sam approves 10:30 (30m): a permanent raise
  #8 Tom   raise 30 for 30d    Nov 20 10:00, pending

Grants end exactly 14, 7 and 10 days after they were asked for. Use-case questions: Eve about
#1 (Oct 19, answered "release prep"), about #2 (Nov 5, answered "firmware debugging"), about
#5 (Nov 12, not answered); Tom about #3 (Oct 16, skipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from store.uow import SqlUnitOfWork, uow_factory
from tests.fakes import FakeConnector
from workflows.admin import DailyUsage, RemoteMember
from workflows.applying.grants import expire_grants
from workflows.applying.worker import OperationWorker
from workflows.clock import ManualClock
from workflows.errors import Refusal
from workflows.model import Request, Verdict
from workflows.policy import Policy, parse_policy
from workflows.requests.asking import submit_request
from workflows.requests.deciding import cancel, decide
from workflows.requests.grammar import RequestDraft, parse_command
from workflows.sync import sync

BERLIN = ZoneInfo("Europe/Berlin")

POLICY_YAML = """
org: {timezone: Europe/Berlin}
admins: [ana@example.com]
seat_tiers:
  standard: {monthly_usd: 25}
  premium: {monthly_usd: 125, seats: 2}
groups:
  - name: embedded
    owners: [dana@example.com]
    members: [dana@example.com, eve@example.com, max@example.com]
    default_cap_usd: 100
    max_cap_usd: 500
    monthly_budget_usd: 1000
    auto_approve_under_usd: 20
    cost_center: ENG-HW
  - name: software
    owners: [sam@example.com, lea@example.com]
    members: [lea@example.com, sam@example.com, tom@example.com]
    default_cap_usd: 100
    max_cap_usd: 500
    cost_center: ENG-SW
"""

ANA, DANA, EVE, MAX = "ana@example.com", "dana@example.com", "eve@example.com", "max@example.com"
SAM, LEA, TOM = "sam@example.com", "lea@example.com", "tom@example.com"
PEOPLE = {
    ANA: ("Ana Lima", "standard"),
    DANA: ("Dana Okafor", "standard"),
    EVE: ("Eve Novak", "standard"),
    MAX: ("Max Weber", "premium"),
    SAM: ("Sam Ortiz", "premium"),
    LEA: ("Lea Brandt", "standard"),
    TOM: ("Tom Becker", "standard"),
}
USAGE = [
    (EVE, date(2026, 10, 10), 4000),
    (EVE, date(2026, 11, 10), 2500),
    (MAX, date(2026, 10, 1), 500),
    (SAM, date(2026, 11, 22), 1000),
    (TOM, date(2026, 10, 12), 15000),
    (TOM, date(2026, 11, 21), 2000),
    (LEA, date(2026, 11, 1), 300),
    (ANA, date(2026, 11, 2), 700),
]
NOW = datetime(2026, 11, 23, 10, tzinfo=BERLIN).astimezone(UTC)
"""When the reports are made: Monday 23 November 2026, 10:00 in Berlin."""


def berlin(month: int, day: int, hour: int = 0, minute: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def policy() -> Policy:
    return parse_policy(POLICY_YAML)


@dataclass
class SmallOrg:
    engine: Engine
    policy: Policy
    clock: ManualClock
    requests: dict[int, Request]

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(uow_factory(self.engine))


class _Builder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.policy = policy()
        self.clock = ManualClock(berlin(10, 1, 8))
        self.connector = FakeConnector(
            members=[
                RemoteMember(email=e, name=n, tier=t, monthly_cap_cents=10000)
                for e, (n, t) in PEOPLE.items()
            ],
            daily=[DailyUsage(e, d, cents, 1) for e, d, cents in USAGE],
        )
        self.factory = uow_factory(engine)
        self.worker = OperationWorker(
            uow_factory=self.uow, connector=self.connector, policy=self.policy, clock=self.clock
        )
        self.made: dict[int, Request] = {}

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.factory)

    def at(self, instant: datetime) -> None:
        self.clock.set(instant)

    def ask(self, who: str, text: str) -> Request:
        command = parse_command(text, now=self.clock.now(), zone=BERLIN, longest_days=90)
        assert isinstance(command, RequestDraft)
        return submit_request(
            self.uow(), self.policy, requester=who, draft=command, now=self.clock.now()
        )

    def decide(self, who: str, request: Request, verdict: Verdict = Verdict.APPROVE) -> None:
        decide(
            self.uow(),
            self.policy,
            request_id=request.id,
            actor=who,
            verdict=verdict,
            now=self.clock.now(),
        )
        self.worker.drain()

    def end_grants(self, instant: datetime) -> None:
        self.at(instant)
        expire_grants(self.uow(), now=instant)
        self.worker.drain()


def build(engine: Engine) -> SmallOrg:
    """The organisation above, on a migrated database."""
    b = _Builder(engine)
    sync(b.uow, b.connector, b.policy, today=date(2026, 10, 1), days=1)
    with b.uow() as uow:
        uow.usage.replace_daily(b.connector.daily)
        uow.commit()
    _october(b)
    _november(b)
    _questions(b)
    b.at(NOW)
    return SmallOrg(engine=engine, policy=b.policy, clock=b.clock, requests=b.made)


def _october(b: _Builder) -> None:
    b.at(berlin(10, 5, 9))
    r1 = b.ask(EVE, "raise 100 for 14d release prep")
    b.at(berlin(10, 5, 11))
    b.decide(DANA, r1)
    b.at(berlin(10, 6, 9))
    b.ask(EVE, "raise 10 quick fix")
    b.worker.drain()
    b.at(berlin(10, 7, 10))
    r3 = b.ask(TOM, "raise 200 for 7d load tests")
    b.at(berlin(10, 7, 14))
    b.decide(SAM, r3)
    b.at(berlin(10, 8, 10))
    r4 = b.ask(TOM, "raise 50 documentation")
    try:
        b.decide(TOM, r4)
    except Refusal:
        pass
    else:
        raise AssertionError("Tom approved his own request")
    with b.uow() as uow:
        away = uow.delegations.add(
            delegator=SAM,
            delegate=LEA,
            starts_at=berlin(10, 8, 12),
            ends_at=berlin(10, 12),
            created_at=berlin(10, 8, 11),
        )
        uow.commit()
    b.at(berlin(10, 9, 10))
    b.decide(LEA, r4, Verdict.DENY)
    with b.uow() as uow:
        assert uow.delegations.end(away.id, at=berlin(10, 10, 12)) is not None
        uow.commit()
    # Tom's grant ends on 14 October at 10:00; its revert only runs two days later.
    b.end_grants(berlin(10, 16, 9))
    # Eve's ends on 19 October at 09:00; its revert runs five minutes after.
    b.end_grants(berlin(10, 19, 9, 5))


def _november(b: _Builder) -> None:
    b.at(berlin(11, 2, 10))
    r5 = b.ask(EVE, "upgrade premium for 10d board bring-up")
    b.at(berlin(11, 2, 11))
    b.decide(DANA, r5)
    b.at(berlin(11, 3, 10))
    r6 = b.ask(MAX, "raise 50 more tests")
    cancel(b.uow(), b.policy, request_id=r6.id, actor=MAX, now=b.clock.now())
    b.at(berlin(11, 4, 10))
    r7 = b.ask(LEA, "raise 40 conference demos")
    b.at(berlin(11, 4, 10, 30))
    b.decide(SAM, r7)
    b.end_grants(berlin(11, 12, 10, 5))
    b.at(berlin(11, 20, 10))
    b.ask(TOM, "raise 30 for 30d soak tests")


def _questions(b: _Builder) -> None:
    with b.uow() as uow:
        for request_id, email, asked in (
            (1, EVE, berlin(10, 19, 9, 5)),
            (3, TOM, berlin(10, 16, 9)),
            (5, EVE, berlin(11, 12, 10, 5)),
        ):
            grant = uow.grants.of_request(request_id)
            assert grant is not None
            uow.use_cases.ask(request_id=request_id, email=email, asked_at=asked, grant_id=grant.id)
        uow.use_cases.ask(request_id=2, email=EVE, asked_at=berlin(11, 5, 9))
        answers = (
            (1, berlin(10, 20, 9), "release prep"),
            (2, berlin(11, 6, 9), "firmware debugging"),
        )
        for request_id, at, use_case in answers:
            question = uow.use_cases.of_request(request_id)
            assert question is not None
            uow.use_cases.answer(question.id, at=at, use_case=use_case)
        skipped = uow.use_cases.of_request(3)
        assert skipped is not None
        uow.use_cases.skip(skipped.id, at=berlin(10, 17, 9))
        uow.commit()
