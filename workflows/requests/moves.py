"""Moving a request to another state: a compare-and-set and its audit entry, always together."""

from __future__ import annotations

from datetime import datetime

from workflows.audit import record
from workflows.model import Request, RequestStatus
from workflows.ports import UnitOfWork


def move(
    uow: UnitOfWork,
    request_id: int,
    *,
    expected: RequestStatus,
    new: RequestStatus,
    actor: str,
    at: datetime,
    decision: bool = False,
    note: str | None = None,
    was: dict[str, object] | None = None,
    **details: object,
) -> Request | None:
    """Move the request from `expected` to `new` and audit it; None if it was not `expected`.

    With `decision`, the actor and note are kept on the request as its decision. `was` and
    `details` add to the audit entry's before and after.
    """
    moved = uow.requests.transition(
        request_id,
        expected=expected,
        new=new,
        at=at,
        decided_by=actor if decision else None,
        decision_note=note if decision else None,
    )
    if moved is not None:
        audit_move(
            uow,
            request_id,
            expected=expected,
            new=new,
            actor=actor,
            at=at,
            note=note,
            was=was,
            **details,
        )
    return moved


def audit_move(
    uow: UnitOfWork,
    request_id: int,
    *,
    expected: RequestStatus,
    new: RequestStatus,
    actor: str,
    at: datetime,
    note: str | None = None,
    was: dict[str, object] | None = None,
    **details: object,
) -> None:
    """The audit entry of a move already made (by `move`, or by the store's `settle`)."""
    after: dict[str, object] = {"status": new, **details}
    if note:
        after["note"] = note
    record(
        uow,
        at=at,
        actor=actor,
        action=f"request.{new}",
        subject=f"request:{request_id}",
        before={"status": expected, **(was or {})},
        after=after,
    )
