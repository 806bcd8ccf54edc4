"""The admins' buttons on operations: Done on a manual task, Retry on a failed change."""

from __future__ import annotations

from datetime import datetime

from workflows.applying.completion import complete
from workflows.applying.worker import manual_thread
from workflows.audit import record
from workflows.errors import Refusal
from workflows.messages import Message, Outgoing, Recipient
from workflows.model import Operation, OperationPurpose, OperationStatus, RequestStatus
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import name_of
from workflows.requests.moves import move


def _admin_operation(uow: UnitOfWork, policy: Policy, operation_id: int, actor: str) -> Operation:
    if not policy.is_admin(actor):
        raise Refusal("Only an admin can do this.")
    operation = uow.operations.get(operation_id)
    if operation is None:
        raise Refusal(f"There is no operation {operation_id}.")
    return operation


def _update_thread(uow: UnitOfWork, operation_id: int, message: Message, now: datetime) -> None:
    thread = manual_thread(operation_id)
    recipients: list[Recipient] = list(uow.notifications.recipients_of(thread))
    for recipient in recipients:
        uow.notifications.add(
            Outgoing(recipient=recipient, message=message, thread_key=thread), at=now
        )


def confirm_manual(
    uow: UnitOfWork, policy: Policy, *, operation_id: int, actor: str, now: datetime
) -> Operation:
    """An admin made a change by hand and says so; the request it belongs to is now applied."""
    actor = actor.lower()
    with uow:
        operation = _admin_operation(uow, policy, operation_id, actor)
        done = uow.operations.transition(
            operation_id, expected=OperationStatus.MANUAL, new=OperationStatus.DONE, done_by=actor
        )
        if done is None:
            by = f" by {name_of(uow, operation.done_by)}" if operation.done_by else ""
            raise Refusal(f"This task is already {operation.status.value.replace('_', ' ')}{by}.")
        complete(uow, policy, done, actor=actor, now=now)
        _update_thread(
            uow,
            operation_id,
            texts.manual_done(done, name_of(uow, actor), now, policy.org.zone),
            now,
        )
        uow.commit()
        return done


def retry_operation(
    uow: UnitOfWork, policy: Policy, *, operation_id: int, actor: str, now: datetime
) -> Operation:
    """An admin asks for another round of attempts at a failed change."""
    actor = actor.lower()
    with uow:
        operation = _admin_operation(uow, policy, operation_id, actor)
        again = uow.operations.transition(
            operation_id,
            expected=OperationStatus.FAILED,
            new=OperationStatus.PENDING,
            next_attempt_at=now,
            reset_attempts=True,
        )
        if again is None:
            raise Refusal(f"This change is {operation.status.value.replace('_', ' ')}, not failed.")
        if operation.purpose is OperationPurpose.APPLY and operation.request_id is not None:
            move(
                uow,
                operation.request_id,
                expected=RequestStatus.FAILED,
                new=RequestStatus.APPLYING,
                actor=actor,
                at=now,
                operation=operation.key,
            )
        record(
            uow,
            at=now,
            actor=actor,
            action="operation.retried",
            subject=f"operation:{operation_id}",
            before={"status": operation.status, "attempts": operation.attempts},
            after={"status": again.status},
        )
        retried = texts.operation_failed(operation, operation.last_error or "").model_copy(
            update={"actions": (), "footer": f"Retried by {name_of(uow, actor)}"}
        )
        _update_thread(uow, operation_id, retried, now)
        uow.commit()
        return again
