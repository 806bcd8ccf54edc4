"""The policy's groups, mirrored so rules can join members to groups in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from store.repositories.members import SqlMembers
from store.tables import GroupMemberRow, GroupOwnerRow, GroupRow, table
from workflows.ports import GroupRecord

_G = table(GroupRow)
_O = table(GroupOwnerRow)
_M = table(GroupMemberRow)


class SqlGroups:
    """Replaced wholesale from the policy; small, so no diffing."""

    def __init__(self, session: Session, members: SqlMembers) -> None:
        self._s = session
        self._members = members

    def replace_all(self, groups: Sequence[GroupRecord]) -> None:
        for t in (_M, _O, _G):
            self._s.execute(delete(t))
        if not groups:
            return
        ids = self._members.ids()
        self._s.execute(
            insert(_G),
            [
                {
                    "name": g.name,
                    "default_cap_cents": g.default_cap_cents,
                    "max_cap_cents": g.max_cap_cents,
                    "budget_cents": g.budget_cents,
                }
                for g in groups
            ],
        )
        owners = [{"group_name": g.name, "email": o} for g in groups for o in g.owners]
        if owners:
            self._s.execute(insert(_O), owners)
        members = [
            {"group_name": g.name, "member_id": ids[m]}
            for g in groups
            for m in g.members
            if m in ids
        ]
        if members:
            self._s.execute(insert(_M), members)
