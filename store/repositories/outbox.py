"""The two outboxes: operations for the admin connector, notifications for chat platforms.

Claiming takes rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers share
the queue without taking the same row; SQLite serialises writers with BEGIN IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Insert,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from store.repositories._rows import to_record
from store.tables import NotificationRow, OperationAttemptRow, OperationRow, table
from store.upsert import insert_unless_exists
from workflows.messages import Message, Outgoing, Recipient
from workflows.model import (
    Attempt,
    NewOperation,
    Operation,
    OperationKind,
    OperationStatus,
    Period,
)
from workflows.ports import PendingDelivery

_O = table(OperationRow)
_A = table(OperationAttemptRow)
_N = table(NotificationRow)


# A failed operation is not in line: it waits for an admin's Retry, and must not hold up
# the person's later changes meanwhile.
UNFINISHED = (OperationStatus.PENDING, OperationStatus.IN_PROGRESS, OperationStatus.MANUAL)


def _claim(
    session: Session,
    outbox: Table,
    *,
    waiting: str,
    taken: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    ready: ColumnElement[bool] | None = None,
) -> list[RowMapping]:
    """Take due rows (waiting and due, or taken with a lapsed lease), oldest first, for one
    worker: leased until `lease_until`, attempts up by one."""
    due = or_(
        and_(outbox.c.status == waiting, outbox.c.next_attempt_at <= now),
        and_(outbox.c.status == taken, outbox.c.lease_until <= now),
    )
    if ready is not None:
        due = and_(due, ready)
    ids = list(
        session.execute(
            select(outbox.c.id)
            .where(due)
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not ids:
        return []
    rows = session.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids))
        .values(status=taken, lease_until=lease_until, attempts=outbox.c.attempts + 1)
        .returning(*outbox.c)
    ).mappings()
    return sorted(rows, key=lambda row: int(row["id"]))


def _operation(row: RowMapping) -> Operation:
    return to_record(Operation, row)


class SqlOperations:
    """The operations outbox."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, new: NewOperation) -> Operation:
        values = {
            "key": new.key,
            "kind": new.kind,
            "purpose": new.purpose,
            "email": new.email,
            "status": OperationStatus.PENDING,
            "attempts": 0,
            "created_at": new.created_at,
            "next_attempt_at": new.created_at,
            "request_id": new.request_id,
            "grant_id": new.grant_id,
            "cap_cents": new.cap_cents,
            "tier": new.tier,
            "period": new.period,
            "inherit": new.inherit,
        }
        row = insert_unless_exists(self._s, _O, values, keys=["key"])
        if row is None:
            row = self._s.execute(select(_O).where(_O.c.key == new.key)).mappings().one()
        return _operation(row)

    def get(self, operation_id: int) -> Operation | None:
        row = self._s.execute(select(_O).where(_O.c.id == operation_id)).mappings().first()
        return None if row is None else _operation(row)

    def claim_due(self, now: datetime, *, lease_until: datetime, limit: int) -> Sequence[Operation]:
        earlier = _O.alias("earlier")
        first_in_line = ~exists().where(
            earlier.c.email == _O.c.email,
            earlier.c.kind == _O.c.kind,
            earlier.c.id < _O.c.id,
            earlier.c.status.in_(UNFINISHED),
        )
        rows = _claim(
            self._s,
            _O,
            waiting=OperationStatus.PENDING,
            taken=OperationStatus.IN_PROGRESS,
            now=now,
            lease_until=lease_until,
            limit=limit,
            ready=first_in_line,
        )
        return [_operation(row) for row in rows]

    def renew(self, held: Mapping[int, int], *, lease_until: datetime) -> Collection[int]:
        if not held:
            return []
        renewed = self._s.execute(
            update(_O)
            .where(
                _O.c.status == OperationStatus.IN_PROGRESS,
                tuple_(_O.c.id, _O.c.attempts).in_(list(held.items())),
            )
            .values(lease_until=lease_until)
            .returning(_O.c.id)
        )
        return set(renewed.scalars())

    def queued_cap(self, email: str, period: Period = Period.MONTHLY) -> int | None:
        query = (
            select(_O.c.cap_cents)
            .where(
                _O.c.email == email,
                _O.c.kind == OperationKind.SET_CAP,
                _O.c.period == period,
                _O.c.status.in_(UNFINISHED),
            )
            .order_by(_O.c.id.desc())
            .limit(1)
        )
        cap: int | None = self._s.execute(query).scalar()
        return cap

    def note_inherited(self, operation_id: int, inherited: bool) -> None:
        self._s.execute(
            update(_O)
            .where(_O.c.id == operation_id, _O.c.inherited_before.is_(None))
            .values(inherited_before=inherited)
        )

    def transition(
        self,
        operation_id: int,
        *,
        expected: OperationStatus,
        new: OperationStatus,
        next_attempt_at: datetime | None = None,
        last_error: str | None = None,
        done_by: str | None = None,
        reset_attempts: bool = False,
    ) -> Operation | None:
        values: dict[str, Any] = {"status": new, "lease_until": None}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if last_error is not None:
            values["last_error"] = last_error
        if done_by is not None:
            values["done_by"] = done_by
        if reset_attempts:
            values["attempts"] = 0
        row = (
            self._s.execute(
                update(_O)
                .where(_O.c.id == operation_id, _O.c.status == expected)
                .values(values)
                .returning(*_O.c)
            )
            .mappings()
            .first()
        )
        return None if row is None else _operation(row)

    def record_attempt(self, attempt: Attempt) -> None:
        self._s.execute(
            insert(_A).values(
                operation_id=attempt.operation_id,
                number=attempt.number,
                at=attempt.at,
                outcome=attempt.outcome,
                error=attempt.error,
            )
        )

    def attempts(self, operation_id: int) -> Sequence[Attempt]:
        query = select(_A).where(_A.c.operation_id == operation_id).order_by(_A.c.id)
        return [to_record(Attempt, row) for row in self._s.execute(query).mappings()]

    def count(self, status: OperationStatus) -> int:
        query = select(func.count()).select_from(_O).where(_O.c.status == status)
        return int(self._s.execute(query).scalar() or 0)


_PENDING, _SENDING, _DELIVERED, _DROPPED = "pending", "sending", "delivered", "dropped"
# Built once: several messages are queued per decision, and building costs more than sending.
_INSERT_NOTIFICATION = insert(_N)


def _add_all(threads: int, direct: int) -> Insert:
    """One INSERT ... SELECT for a decision's messages: the thread updates copied to everyone
    each thread went to, and the direct messages; built once per shape."""
    at = bindparam("at", type_=_N.c.created_at.type)
    fixed = (literal(_PENDING), literal(0), at, at)
    parts: list[Select[Any]] = []
    if threads:
        keys = [bindparam(f"t{i}", type_=_N.c.thread_key.type) for i in range(threads)]
        each = [bindparam(f"m{i}", type_=JSON) for i in range(threads)]
        message = case(*((_N.c.thread_key == key, m) for key, m in zip(keys, each, strict=True)))
        parts.append(
            select(_N.c.recipient_kind, _N.c.recipient_address, _N.c.thread_key, message, *fixed)
            .where(_N.c.thread_key.in_(keys))
            .group_by(_N.c.recipient_kind, _N.c.recipient_address, _N.c.thread_key)
        )
    for j in range(direct):
        parts.append(
            select(
                bindparam(f"k{j}", type_=_N.c.recipient_kind.type),
                bindparam(f"a{j}", type_=_N.c.recipient_address.type),
                bindparam(f"h{j}", type_=_N.c.thread_key.type),
                bindparam(f"d{j}", type_=JSON),
                *fixed,
            )
        )
    rows = parts[0] if len(parts) == 1 else union_all(*parts)
    return insert(_N).from_select(_QUEUED, rows)


_QUEUED = [
    "recipient_kind",
    "recipient_address",
    "thread_key",
    "message",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
]
_ADD_ALL: dict[tuple[int, int], Insert] = {}


def _outgoing(row: RowMapping) -> Outgoing:
    return Outgoing(
        recipient=Recipient(kind=row["recipient_kind"], address=row["recipient_address"]),
        message=Message.model_validate(row["message"]),
        thread_key=row["thread_key"],
    )


def _pending(row: RowMapping) -> PendingDelivery:
    return PendingDelivery(
        id=row["id"], outgoing=_outgoing(row), attempts=row["attempts"], platform=row["platform"]
    )


class SqlNotifications:
    """The notifications outbox."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def depth(self) -> int:
        """Messages not yet delivered (waiting, being sent or waiting for a retry)."""
        query = select(func.count()).select_from(_N).where(_N.c.status.in_((_PENDING, _SENDING)))
        return int(self._s.execute(query).scalar() or 0)

    def add(self, outgoing: Outgoing, *, at: datetime) -> None:
        self._s.execute(
            _INSERT_NOTIFICATION,
            {
                "recipient_kind": outgoing.recipient.kind,
                "recipient_address": outgoing.recipient.address,
                "thread_key": outgoing.thread_key,
                "message": outgoing.message.model_dump(mode="json"),
                "status": _PENDING,
                "attempts": 0,
                "created_at": at,
                "next_attempt_at": at,
            },
        )

    def recipients_of(self, thread_key: str) -> Sequence[Recipient]:
        rows = self._s.execute(
            select(_N.c.recipient_kind, _N.c.recipient_address)
            .where(_N.c.thread_key == thread_key)
            .group_by(_N.c.recipient_kind, _N.c.recipient_address)
            .order_by(func.min(_N.c.id))
        )
        return [Recipient(kind=kind, address=address) for kind, address in rows]

    def add_all(
        self,
        outgoing: Sequence[Outgoing],
        *,
        to_threads: Sequence[tuple[str, Message]],
        at: datetime,
    ) -> None:
        if not outgoing and not to_threads:
            return
        shape = (len(to_threads), len(outgoing))
        if shape not in _ADD_ALL:
            _ADD_ALL[shape] = _add_all(*shape)
        params: dict[str, Any] = {"at": at}
        for i, (thread, message) in enumerate(to_threads):
            params[f"t{i}"], params[f"m{i}"] = thread, message.model_dump(mode="json")
        for j, one in enumerate(outgoing):
            params[f"k{j}"], params[f"a{j}"] = one.recipient.kind, one.recipient.address
            params[f"h{j}"], params[f"d{j}"] = one.thread_key, one.message.model_dump(mode="json")
        self._s.execute(_ADD_ALL[shape], params)

    def claim_due(
        self, now: datetime, *, lease_until: datetime, limit: int
    ) -> Sequence[PendingDelivery]:
        rows = _claim(
            self._s,
            _N,
            waiting=_PENDING,
            taken=_SENDING,
            now=now,
            lease_until=lease_until,
            limit=limit,
        )
        return [_pending(row) for row in rows]

    def route(
        self, notification_id: int, platforms: Sequence[str], *, lease_until: datetime
    ) -> Sequence[PendingDelivery]:
        first, *others = platforms
        row = (
            self._s.execute(
                update(_N).where(_N.c.id == notification_id).values(platform=first).returning(*_N.c)
            )
            .mappings()
            .one()
        )
        legs = [_pending(row)]
        copy = {
            name: row[name]
            for name in (
                "recipient_kind",
                "recipient_address",
                "thread_key",
                "message",
                "attempts",
                "created_at",
                "next_attempt_at",
            )
        }
        for platform in others:
            values = {
                **copy,
                "status": _SENDING,
                "lease_until": lease_until,
                "platform": platform,
                "origin_id": notification_id,
            }
            added = self._s.execute(insert(_N).values(values).returning(*_N.c)).mappings().one()
            legs.append(_pending(added))
        return legs

    def delivered(self, notification_id: int, *, ref: str, at: datetime) -> None:
        self._s.execute(
            update(_N)
            .where(_N.c.id == notification_id)
            .values(status=_DELIVERED, ref=ref, delivered_at=at, lease_until=None)
        )

    def retry(self, notification_id: int, *, at: datetime, error: str) -> None:
        self._s.execute(
            update(_N)
            .where(_N.c.id == notification_id)
            .values(status=_PENDING, next_attempt_at=at, last_error=error, lease_until=None)
        )

    def give_up(self, notification_id: int, *, error: str) -> None:
        self._s.execute(
            update(_N)
            .where(_N.c.id == notification_id)
            .values(status=_DROPPED, last_error=error, lease_until=None)
        )

    def newer_in_thread(self, notification_id: int) -> bool:
        this = _N.alias("this")
        # Copies of one message for other platforms share their origin's place in the thread.
        query = select(_N.c.id).where(
            this.c.id == notification_id,
            _N.c.thread_key == this.c.thread_key,
            _N.c.recipient_kind == this.c.recipient_kind,
            _N.c.recipient_address == this.c.recipient_address,
            func.coalesce(_N.c.origin_id, _N.c.id) > func.coalesce(this.c.origin_id, this.c.id),
        )
        return self._s.execute(query.limit(1)).first() is not None

    def refs_of(self, recipient: Recipient, thread_key: str) -> dict[str, str]:
        rows = self._s.execute(
            select(_N.c.platform, _N.c.ref)
            .where(
                _N.c.thread_key == thread_key,
                _N.c.recipient_kind == recipient.kind,
                _N.c.recipient_address == recipient.address,
                _N.c.status == _DELIVERED,
                _N.c.platform.is_not(None),
            )
            .order_by(func.coalesce(_N.c.origin_id, _N.c.id), _N.c.id)
        )
        # The latest delivered version on each platform wins.
        return {platform: ref for platform, ref in rows if ref is not None}
