"""What the chat adapters remember: who is who on each platform, which events were seen, and
which running processes deliver messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from store.tables import ChatIdentityRow, DeliveryAgentRow, InboundEventRow, MemberRow, table
from store.upsert import insert_unless_exists, upsert

_C = table(ChatIdentityRow)
_E = table(InboundEventRow)
_M = table(MemberRow)
_D = table(DeliveryAgentRow)

_EMAIL_OF = (
    select(_M.c.email)
    .join(_C, _C.c.member_id == _M.c.id)
    .where(_C.c.platform == bindparam("platform"), _C.c.external_id == bindparam("external_id"))
)
_EXTERNAL_OF = (
    select(_C.c.external_id)
    .join(_M, _C.c.member_id == _M.c.id)
    .where(_C.c.platform == bindparam("platform"), _M.c.email == bindparam("email"))
)
_CONVERSATION_OF = (
    select(_C.c.conversation)
    .join(_M, _C.c.member_id == _M.c.id)
    .where(_C.c.platform == bindparam("platform"), _M.c.email == bindparam("email"))
)


class SqlChatIdentities:
    """A member's account on a chat platform, found once through the platform's API."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def email_of(self, platform: str, external_id: str) -> str | None:
        """The member behind a platform account, if it was linked before."""
        params = {"platform": platform, "external_id": external_id}
        found: str | None = self._s.execute(_EMAIL_OF, params).scalar()
        return found

    def external_id_of(self, platform: str, email: str) -> str | None:
        """The platform account of a member, if it was linked before."""
        params = {"platform": platform, "email": email.lower()}
        found: str | None = self._s.execute(_EXTERNAL_OF, params).scalar()
        return found

    def link(
        self,
        platform: str,
        external_id: str,
        email: str,
        *,
        conversation: str | None = None,
        seen_at: datetime | None = None,
    ) -> bool:
        """Remember that `external_id` is this member; False when no member has that email.

        A conversation or a time already kept stays unless a new one is given."""
        member_id = self._s.execute(select(_M.c.id).where(_M.c.email == email.lower())).scalar()
        if member_id is None:
            return False
        kept = self._s.execute(
            select(_C.c.conversation, _C.c.seen_at).where(
                _C.c.platform == platform,
                _C.c.member_id == member_id,
                _C.c.external_id == external_id,
            )
        ).first()
        # An account moved to another email (or a member to another account) replaces the link.
        self._s.execute(
            delete(_C).where(
                _C.c.platform == platform,
                (_C.c.member_id == member_id) | (_C.c.external_id == external_id),
            )
        )
        values = {
            "platform": platform,
            "external_id": external_id,
            "member_id": member_id,
            "conversation": conversation if conversation is not None or kept is None else kept[0],
            "seen_at": seen_at if seen_at is not None or kept is None else kept[1],
        }
        upsert(
            self._s,
            _C,
            values,
            keys=["platform", "external_id"],
            update=["member_id", "conversation", "seen_at"],
        )
        return True

    def seen(self, platform: str, external_id: str, *, at: datetime) -> str | None:
        """Record that the account used capdesk at `at`; the member's email, if linked."""
        email = self.email_of(platform, external_id)
        if email is not None:
            self._s.execute(
                update(_C)
                .where(_C.c.platform == platform, _C.c.external_id == external_id)
                .values(seen_at=at)
            )
        return email

    def conversation_of(self, platform: str, email: str) -> str | None:
        """The platform's reference to the member's conversation with the bot, if kept."""
        params = {"platform": platform, "email": email.lower()}
        found: str | None = self._s.execute(_CONVERSATION_OF, params).scalar()
        return found

    def platforms_of(self, email: str) -> list[str]:
        """The platforms the member has an account linked on, the one used last first."""
        query = (
            select(_C.c.platform)
            .join(_M, _C.c.member_id == _M.c.id)
            .where(_M.c.email == email.lower())
            .order_by(_C.c.seen_at.desc().nulls_last(), _C.c.id.desc())
        )
        return list(self._s.execute(query).scalars())


class SqlInboundEvents:
    """Event ids already received, so a platform's redelivery is handled once."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def first_time(self, platform: str, event_id: str, *, at: datetime) -> bool:
        """Record the event; False when it was recorded before (by this or another replica)."""
        row = insert_unless_exists(
            self._s,
            _E,
            {"platform": platform, "event_id": event_id, "received_at": at},
            keys=["platform", "event_id"],
        )
        return row is not None

    def forget_before(self, before: datetime) -> int:
        """Drop old event ids; platforms stop redelivering after minutes."""
        result = self._s.execute(delete(_E).where(_E.c.received_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]


class SqlDeliveryAgents:
    """The processes that deliver the notifications outbox, each seen at its last beat."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def beat(self, agent_id: str, platform: str, *, at: datetime) -> None:
        """The process is alive and delivers to `platform`."""
        upsert(
            self._s,
            _D,
            {"id": agent_id, "platform": platform, "seen_at": at},
            keys=["id"],
            update=["platform", "seen_at"],
        )

    def leave(self, agent_id: str) -> None:
        """The process stops delivering."""
        self._s.execute(delete(_D).where(_D.c.id == agent_id))

    def seen_since(self, since: datetime) -> list[str]:
        """The platforms of the processes seen at `since` or later, most recently seen first."""
        query = select(_D.c.platform).where(_D.c.seen_at >= since).order_by(_D.c.seen_at.desc())
        return list(self._s.execute(query).scalars())
