"""The outbox worker: applies queued operations through the admin connector.

Each operation is claimed with a lease in one transaction, applied outside any transaction
(the call may be slow), and its outcome recorded in a second one. A worker that dies mid-call
leaves the lease to lapse; the next worker applies the operation again with the same
idempotency key, so the backend applies it once.

Different people's changes go in parallel: up to `concurrency` operations at a time, each in a
worker thread of its own (`workflows.applying.pool`), so one hanging or failing admin call holds
up only that person's later changes. One person's changes stay in order because the store hands
out an operation only when no earlier one of the same kind for that person is unfinished; that
holds across threads and replicas alike, since it is decided in the claiming transaction. The
backend's rate limit is the connector's business: its calls share one limiter whichever thread
makes them.

Leases are short (`RetryPolicy.lease`, 15 s) and renewed every third of that while the
operations run, so a live worker keeps what it holds however slow the backend is, and a dead
one's operations are free again seconds after it died, not minutes. `drain` claims only as many
operations as it has free threads, so a crash strands no queue of claimed-but-unstarted work.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from workflows.admin import (
    AdminConnector,
    Capability,
    ConnectorError,
    TransientConnectorError,
    UnsupportedOperation,
    inherited_caps,
    native_requests,
)
from workflows.applying.backoff import RetryPolicy
from workflows.applying.completion import complete
from workflows.applying.pool import DEFAULT_CONCURRENCY, run_claims
from workflows.audit import record
from workflows.clock import Clock
from workflows.model import (
    SYSTEM_ACTOR,
    Attempt,
    Operation,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    Period,
    RequestStatus,
)
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import tell, tell_admins, update_request_sent
from workflows.requests.moves import move
from workflows.requests.sources import native_id_of

log = logging.getLogger(__name__)

NEEDS = {
    OperationKind.SET_CAP: Capability.SET_CAP,
    OperationKind.SET_TIER: Capability.SET_TIER,
    OperationKind.REMOVE_SEAT: Capability.REMOVE_SEAT,
    OperationKind.DENY_NATIVE: Capability.NATIVE_REQUESTS,
}


def manual_thread(operation_id: int) -> str:
    """The thread key of an operation's messages to the admins."""
    return f"operation:{operation_id}"


@dataclass(frozen=True, slots=True)
class _Claimed:
    operation: Operation
    native_id: str | None
    """The backend's id of the native request behind the operation, if any."""
    temporary: bool
    """The operation applies a temporary grant, which will be reverted."""


@dataclass
class WorkerReport:
    """What one pass of the worker did, by operation id."""

    applied: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    manual: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.applied) + len(self.retrying) + len(self.failed) + len(self.manual)

    def add(self, outcome: str, operation_id: int) -> None:
        """Count one operation under `outcome` (a field name), keeping each list sorted."""
        ids: list[int] = getattr(self, outcome)
        ids.append(operation_id)
        ids.sort()

    def extend(self, other: WorkerReport) -> None:
        for outcome in _OUTCOMES:
            for operation_id in getattr(other, outcome):
                self.add(outcome, operation_id)


_OUTCOMES = ("applied", "retrying", "failed", "manual")


class OperationWorker:
    """Applies due operations from the outbox; safe to run in several threads and processes at
    once. `concurrency` bounds the operations one worker applies at a time."""

    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        connector: AdminConnector,
        policy: Policy,
        clock: Clock,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError("an outbox worker applies at least one operation at a time")
        self._uow = uow_factory
        self._connector = connector
        self._policy = policy
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()
        self._native = native_requests(connector)
        self._inherited = inherited_caps(connector)
        self._concurrency = concurrency
        self._lock = threading.Lock()
        self._draining = False
        self._asked = False

    @property
    def concurrency(self) -> int:
        """How many operations this worker applies at once."""
        return self._concurrency

    def run_once(self, *, limit: int = 20) -> WorkerReport:
        """Claim up to `limit` due operations at once and apply them."""
        return self._run(limit, refill=False)

    def drain(self, *, limit: int = 20, rounds: int = 1000) -> WorkerReport:
        """Apply operations as they fall due, until nothing is due now (operations waiting for a
        later retry stay queued), `limit * rounds` at most.

        While one call drains, another call on the same worker returns at once with an empty
        report, and the running one looks for due operations once more before it stops: many
        wakes make one pass, and no wake is lost.
        """
        total = WorkerReport()
        budget = limit * rounds
        while budget > total.handled:
            with self._lock:
                if self._draining:
                    self._asked = True
                    return total
                self._draining = True
            try:
                total.extend(self._run(budget - total.handled, refill=True))
            finally:
                with self._lock:
                    self._draining = False
                    asked, self._asked = self._asked, False
            if not asked:
                break
        return total

    def _asked_again(self) -> bool:
        with self._lock:
            asked, self._asked = self._asked, False
            return asked

    def _run(self, most: int, *, refill: bool) -> WorkerReport:
        report = WorkerReport()
        renewed = [self._clock.now()]

        def work(claimed: _Claimed) -> None:
            outcome = self._process(claimed)
            if outcome is not None:
                with self._lock:
                    report.add(outcome, claimed.operation.id)

        def keep_due() -> bool:
            return self._clock.now() >= renewed[0] + self._retry.renew_every

        def keep(held: Collection[_Claimed]) -> None:
            renewed[0] = self._clock.now()
            self._keep(held, renewed[0])

        run_claims(
            claim=self._claim,
            work=work,
            keep=keep,
            keep_due=keep_due,
            concurrency=self._concurrency,
            most=most,
            refill=refill,
            again=self._asked_again,
        )
        return report

    def _keep(self, held: Collection[_Claimed], now: datetime) -> None:
        """Renew the leases of the operations this worker still holds. A failure is logged,
        not raised: the calls go on, and at worst a lease lapses and the operation is applied
        again with its idempotency key."""
        claims = {c.operation.id: c.operation.attempts for c in held}
        try:
            with self._uow() as uow:
                kept = uow.operations.renew(claims, lease_until=now + self._retry.lease)
                uow.commit()
        except Exception:
            log.exception("could not renew the leases of operations %s", sorted(claims))
            return
        if lost := sorted(set(claims) - set(kept)):
            # Finished a moment ago, or the lease lapsed and another worker took it over.
            log.info("operations %s are no longer held by this worker", lost)

    def _claim(self, limit: int) -> list[_Claimed]:
        """Due operations, each with what the connector needs to know of its request."""
        now = self._clock.now()
        claimed: list[_Claimed] = []
        with self._uow() as uow:
            for operation in uow.operations.claim_due(
                now, lease_until=now + self._retry.lease, limit=limit
            ):
                request = None
                applies = operation.purpose is OperationPurpose.APPLY
                if (
                    applies
                    and operation.request_id is not None
                    and operation.kind is not OperationKind.DENY_NATIVE
                ):
                    request = move(
                        uow,
                        operation.request_id,
                        expected=RequestStatus.APPROVED,
                        new=RequestStatus.APPLYING,
                        actor=SYSTEM_ACTOR,
                        at=now,
                        operation=operation.key,
                    )
                native_id = None
                temporary = False
                needs_request = self._native is not None or self._inherited is not None
                if needs_request and applies and operation.request_id is not None:
                    # Only these connectors need the request: no extra read for the others.
                    request = request or uow.requests.get(operation.request_id)
                    if request is not None:
                        native_id = native_id_of(request.source, self._connector.name)
                        temporary = request.temporary
                claimed.append(_Claimed(operation, native_id, temporary))
            uow.commit()
        return claimed

    def _possible(self, operation: Operation, native_id: str | None) -> bool:
        """Whether the connector can make this change through its API."""
        if NEEDS[operation.kind] not in self._connector.capabilities:
            return False
        if operation.kind is OperationKind.DENY_NATIVE:
            return self._native is not None and native_id is not None
        if operation.kind is OperationKind.SET_CAP and native_id is None:
            # Only connectors with inherited caps know other periods, and letting one inherit.
            special = operation.inherit or operation.period is not Period.MONTHLY
            return not special or self._inherited is not None
        return True

    def _process(self, claimed: _Claimed) -> str | None:
        """Apply one claimed operation and record its outcome: the report field it goes in,
        None when another worker settled it meanwhile."""
        operation, native_id = claimed.operation, claimed.native_id
        if not self._possible(operation, native_id):
            self._to_manual(operation)
            return "manual"
        try:
            if claimed.temporary:
                operation = self._observe(operation)
            self._call(operation, native_id)
        except UnsupportedOperation:
            self._to_manual(operation)
            return "manual"
        except TransientConnectorError as exc:
            return self._failed_try(operation, str(exc), retry_after=exc.retry_after, final=False)
        except ConnectorError as exc:
            return self._failed_try(operation, str(exc), retry_after=None, final=True)
        except Exception as exc:  # a connector bug must not lose the operation: retry it
            log.exception(
                "operation %s: unexpected error from the %s connector",
                operation.key,
                self._connector.name,
            )
            return self._failed_try(
                operation, f"unexpected error: {exc!r}", retry_after=None, final=False
            )
        self._succeeded(operation)
        return "applied"

    def _observe(self, operation: Operation) -> Operation:
        """Before a temporary cap is applied, note whether the cap it replaces is inherited, so
        its revert can let the member inherit again. Noted before the write, once: a retry
        after a crash must not take the cap capdesk set for the member's own."""
        if (
            self._inherited is None
            or operation.kind is not OperationKind.SET_CAP
            or operation.purpose is not OperationPurpose.APPLY
            or operation.inherited_before is not None
        ):
            return operation
        inherited = self._inherited.cap_inherited(operation.email, operation.period)
        with self._uow() as uow:
            uow.operations.note_inherited(operation.id, inherited)
            uow.commit()
        return replace(operation, inherited_before=inherited)

    def _call(self, operation: Operation, native_id: str | None) -> None:
        key = operation.key
        if operation.kind is OperationKind.SET_CAP:
            self._set_cap(operation, native_id)
        elif operation.kind is OperationKind.DENY_NATIVE:
            assert self._native is not None
            assert native_id is not None
            self._native.deny_native(native_id, idempotency_key=key)
        elif operation.kind is OperationKind.SET_TIER:
            assert operation.tier is not None
            self._connector.set_tier(operation.email, operation.tier, idempotency_key=key)
        else:
            self._connector.remove_seat(operation.email, idempotency_key=key)

    def _set_cap(self, operation: Operation, native_id: str | None) -> None:
        key, email, period = operation.key, operation.email, operation.period
        assert operation.cap_cents is not None
        if self._native is not None and native_id is not None:
            # Approving the native request sets the limit and closes it in the backend.
            self._native.approve_native(
                native_id, operation.cap_cents, period=period, idempotency_key=key
            )
        elif operation.inherit:
            assert self._inherited is not None
            self._inherited.inherit_cap(email, period, idempotency_key=key)
        elif period is not Period.MONTHLY:
            assert self._inherited is not None
            self._inherited.set_period_cap(email, operation.cap_cents, period, idempotency_key=key)
        else:
            self._connector.set_cap(email, operation.cap_cents, idempotency_key=key)

    def _succeeded(self, operation: Operation) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            done = uow.operations.transition(
                operation.id, expected=OperationStatus.IN_PROGRESS, new=OperationStatus.DONE
            )
            if done is None:
                return  # the lease lapsed and another worker finished it
            uow.operations.record_attempt(Attempt(operation.id, operation.attempts, now, "applied"))
            complete(uow, self._policy, done, actor=SYSTEM_ACTOR, now=now)
            uow.commit()

    def _failed_try(
        self,
        operation: Operation,
        error: str,
        *,
        retry_after: float | None,
        final: bool,
    ) -> str | None:
        now = self._clock.now()
        give_up = final or operation.attempts >= self._retry.max_attempts
        with self._uow() as uow:
            uow.operations.record_attempt(
                Attempt(operation.id, operation.attempts, now, "failed", error)
            )
            if not give_up:
                delay = self._retry.delay(
                    operation.attempts, retry_after=retry_after, rng=self._rng
                )
                uow.operations.transition(
                    operation.id,
                    expected=OperationStatus.IN_PROGRESS,
                    new=OperationStatus.PENDING,
                    next_attempt_at=now + delay,
                    last_error=error,
                )
                uow.commit()
                return "retrying"
            failed = uow.operations.transition(
                operation.id,
                expected=OperationStatus.IN_PROGRESS,
                new=OperationStatus.FAILED,
                last_error=error,
            )
            if failed is None:
                return None  # the lease lapsed and another worker settled it
            record(
                uow,
                at=now,
                actor=SYSTEM_ACTOR,
                action="operation.failed",
                subject=f"operation:{operation.id}",
                after={"key": operation.key, "error": error, "attempts": operation.attempts},
            )
            tell_admins(
                uow,
                self._policy,
                texts.operation_failed(failed, error),
                now,
                thread_key=manual_thread(operation.id),
            )
            if operation.purpose is OperationPurpose.APPLY and operation.request_id is not None:
                request = move(
                    uow,
                    operation.request_id,
                    expected=RequestStatus.APPLYING,
                    new=RequestStatus.FAILED,
                    actor=SYSTEM_ACTOR,
                    at=now,
                    error=error,
                )
                if request is not None:
                    update_request_sent(uow, self._policy, request, now)
                    tell(uow, request.requester, texts.failed_to_requester(request), now)
            uow.commit()
        return "failed"

    def _to_manual(self, operation: Operation) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            manual = uow.operations.transition(
                operation.id, expected=OperationStatus.IN_PROGRESS, new=OperationStatus.MANUAL
            )
            if manual is None:
                return
            request = uow.requests.get(operation.request_id) if operation.request_id else None
            record(
                uow,
                at=now,
                actor=SYSTEM_ACTOR,
                action="operation.manual",
                subject=f"operation:{operation.id}",
                after={"key": operation.key, "change": operation.describe()},
            )
            tell_admins(
                uow,
                self._policy,
                texts.manual_task(manual, request),
                now,
                thread_key=manual_thread(operation.id),
            )
            uow.commit()
