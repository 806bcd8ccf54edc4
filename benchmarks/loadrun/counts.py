"""Lost, duplicated and stuck: every approved request applied exactly once, by the end.

* **lost**: the server approved the request, its change never took effect at the backend, and
  the server does not hold it queued any more (it believes it done, or it has no operation);
* **duplicated, by key**: an `Idempotency-Key` that took effect more than once;
* **duplicated, by effect**: raises in force beyond those approved and applied, read from each
  person's final cap at the backend (start + amount x applied raises); **short, by effect**:
  the other way round;
* **stuck** (counted by the driver): flows not finished when the run ended; **queued**:
  approved requests still in the server's outbox then (stuck, not lost).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import and_, select

from benchmarks.loadrun.backend import Effect
from benchmarks.loadrun.world import AMOUNT_CENTS, START_CAP_CENTS
from store.engine import make_engine
from store.tables import OperationRow, RequestRow, table
from workflows.model import OperationPurpose, OperationStatus, RequestStatus
from workflows.requests.deciding import apply_key

_DECIDED_YES = {
    RequestStatus.APPROVED,
    RequestStatus.APPLYING,
    RequestStatus.APPLIED,
    RequestStatus.REVERTED,
    RequestStatus.FAILED,
}
_QUEUED = {OperationStatus.PENDING, OperationStatus.IN_PROGRESS}


@dataclass(frozen=True)
class Approved:
    """A request the server approved: whose, and whether it still means to apply it."""

    requester: str
    queued: bool = False
    failed: bool = False


@dataclass(frozen=True)
class Counts:
    approved: int
    applied: int
    lost: int
    duplicated_by_key: int
    duplicated_by_effect: int
    short_by_effect: int
    queued: int
    failed: int


def approved_in_store(url: str) -> dict[int, Approved]:
    """capdesk's own view: approved requests, and whether their operation is still queued."""
    requests, operations = table(RequestRow), table(OperationRow)
    statement = select(
        requests.c.id, requests.c.requester, requests.c.status, operations.c.status
    ).outerjoin(
        operations,
        and_(
            operations.c.request_id == requests.c.id,
            operations.c.purpose == OperationPurpose.APPLY,
        ),
    )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
    finally:
        engine.dispose()
    return {
        int(number): Approved(
            requester=str(requester),
            queued=operation in _QUEUED,
            failed=status is RequestStatus.FAILED or operation is OperationStatus.FAILED,
        )
        for number, requester, status, operation in rows
        if status in _DECIDED_YES
    }


def count(
    approved: Mapping[int, Approved],
    effects: Iterable[Effect],
    final_caps: Mapping[str, int | None],
) -> Counts:
    """The counts of a run from what the server approved and what took effect."""
    per_key = Counter(effect.key for effect in effects)
    applied = {n for n in approved if per_key[apply_key(n)]}
    unapplied = [approved[n] for n in approved if n not in applied]
    raises = Counter(approved[n].requester for n in applied)
    over = short = 0
    for person, cap in final_caps.items():
        off = ((cap or 0) - START_CAP_CENTS - AMOUNT_CENTS * raises[person]) // AMOUNT_CENTS
        over, short = over + max(0, off), short + max(0, -off)
    return Counts(
        approved=len(approved),
        applied=len(applied),
        lost=sum(1 for a in unapplied if not a.queued and not a.failed),
        duplicated_by_key=sum(n - 1 for n in per_key.values() if n > 1),
        duplicated_by_effect=over,
        short_by_effect=short,
        queued=sum(1 for a in unapplied if a.queued),
        failed=sum(1 for a in unapplied if a.failed),
    )
