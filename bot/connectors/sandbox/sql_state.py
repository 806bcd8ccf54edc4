"""The sandbox's applied changes kept in capdesk's own database, so they outlive the process."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine, RowMapping, select
from sqlalchemy.orm import Session

from bot.connectors.sandbox.state import SeatOverride
from store.tables import SandboxAppliedKeyRow, SandboxSeatRow, table
from store.upsert import insert_unless_exists, upsert

_SEAT = table(SandboxSeatRow)
_KEY = table(SandboxAppliedKeyRow)


class SqlSandboxState:
    """`SandboxState` on the store's engine: the key and the change commit together."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def overrides(self) -> Mapping[str, SeatOverride]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(_SEAT)).mappings()
            return {row["email"]: _override(row) for row in rows}

    def record(
        self,
        *,
        key: str,
        email: str,
        tier: str | None = None,
        cap_cents: int | None = None,
        removed: bool = False,
    ) -> bool:
        with Session(self._engine) as session:
            if (
                insert_unless_exists(session, _KEY, {"key": key, "email": email}, keys=["key"])
                is None
            ):
                return False
            row = session.execute(select(_SEAT).where(_SEAT.c.email == email)).mappings().first()
            current = SeatOverride() if row is None else _override(row)
            merged = current.merged(tier=tier, cap_cents=cap_cents, removed=removed)
            values = {"tier": merged.tier, "cap_cents": merged.cap_cents, "removed": merged.removed}
            upsert(session, _SEAT, {"email": email, **values}, keys=["email"], update=list(values))
            session.commit()
            return True


def _override(row: RowMapping) -> SeatOverride:
    return SeatOverride(tier=row["tier"], cap_cents=row["cap_cents"], removed=row["removed"])
