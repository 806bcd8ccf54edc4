"""The unit of work on SQL: one session, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from store.repositories.alerts import SqlAlerts
from store.repositories.audit import SqlAudit
from store.repositories.chat import SqlChatIdentities, SqlDeliveryAgents, SqlInboundEvents
from store.repositories.delegations import SqlDelegations
from store.repositories.groups import SqlGroups
from store.repositories.members import SqlMembers, SqlUsage
from store.repositories.outbox import SqlNotifications, SqlOperations
from store.repositories.reports import SqlReports
from store.repositories.requests import SqlDecisions, SqlGrants, SqlRequests
from store.repositories.seat_pool import SqlSeatPool
from store.repositories.telemetry import SqlTelemetry
from store.repositories.use_cases import SqlUseCases
from workflows.ports import (
    AlertRepository,
    AuditLog,
    DecisionRepository,
    DelegationRepository,
    GrantRepository,
    GroupRepository,
    IdentityRepository,
    InboundRepository,
    MemberRepository,
    NotificationRepository,
    OperationRepository,
    ReportRepository,
    RequestRepository,
    SeatPoolRepository,
    TelemetryRepository,
    UsageRepository,
    UseCaseRepository,
)


class SqlUnitOfWork:
    """Opens a transaction on enter; rolls back on exit unless `commit` was called."""

    session: Session
    members: MemberRepository
    usage: UsageRepository
    groups: GroupRepository
    requests: RequestRepository
    decisions: DecisionRepository
    grants: GrantRepository
    operations: OperationRepository
    notifications: NotificationRepository
    audit: AuditLog
    alerts: AlertRepository
    telemetry: TelemetryRepository
    use_cases: UseCaseRepository
    delegations: DelegationRepository
    pool: SeatPoolRepository
    reports: ReportRepository
    identities: IdentityRepository
    inbound: InboundRepository
    agents: SqlDeliveryAgents

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def __enter__(self) -> Self:
        self.session = self._factory()
        members = SqlMembers(self.session)
        self.members = members
        self.usage = SqlUsage(self.session, members)
        self.groups = SqlGroups(self.session, members)
        self.requests = SqlRequests(self.session)
        self.decisions = SqlDecisions(self.session)
        self.grants = SqlGrants(self.session)
        self.operations = SqlOperations(self.session)
        self.notifications = SqlNotifications(self.session)
        self.audit = SqlAudit(self.session)
        self.alerts = SqlAlerts(self.session)
        self.telemetry = SqlTelemetry(self.session, members)
        self.use_cases = SqlUseCases(self.session)
        self.delegations = SqlDelegations(self.session)
        self.pool = SqlSeatPool(self.session)
        self.reports = SqlReports(self.session)
        self.identities = SqlChatIdentities(self.session)
        self.inbound = SqlInboundEvents(self.session)
        self.agents = SqlDeliveryAgents(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def uow_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory a SqlUnitOfWork takes."""
    return sessionmaker(engine, expire_on_commit=False)
