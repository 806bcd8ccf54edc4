"""Writing the audit log: every transition with its actor, time, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.model import AuditEntry
from workflows.ports import UnitOfWork

SELF_APPROVAL_REFUSED = "request.self_approval_refused"
"""The audit action of a requester's click on Approve for their own request, refused."""


def record(
    uow: UnitOfWork,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log, in the caller's transaction."""
    uow.audit.append(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            before=before or {},
            after=after or {},
        )
    )
