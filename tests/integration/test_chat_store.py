"""What the store keeps for the chat platforms, on SQLite and PostgreSQL: who is who on each,
and which platform each message of the outbox went to."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from store import migrate
from store.migrate import upgrade
from tests.integration import world
from tests.integration.world import ADMIN, DANA, EVE, T0, uows
from workflows.messages import Message, Outgoing, Recipient

MINUTE = timedelta(minutes=1)


def test_a_link_keeps_its_conversation_and_when_it_was_last_used(engine: Engine) -> None:
    world.seed(engine)
    with uows(engine)() as uow:
        assert uow.identities.link("teams", "29:eve", EVE.upper(), conversation='{"id": "a"}')
        assert uow.identities.link("slack", "U0EVE", EVE, seen_at=T0)
        assert not uow.identities.link("slack", "U0NOBODY", "nobody@example.com")
        uow.commit()
    with uows(engine)() as uow:
        assert uow.identities.conversation_of("teams", EVE) == '{"id": "a"}'
        assert uow.identities.conversation_of("slack", EVE) is None
        assert uow.identities.platforms_of(EVE) == ["slack", "teams"]  # never seen on Teams
        assert uow.identities.seen("teams", "29:eve", at=T0 + MINUTE) == EVE
        assert uow.identities.seen("teams", "29:nobody", at=T0) is None
        # Linked again (the directory found them once more), the conversation stays.
        assert uow.identities.link("teams", "29:eve", EVE)
        uow.commit()
    with uows(engine)() as uow:
        assert uow.identities.platforms_of(EVE) == ["teams", "slack"]
        assert uow.identities.conversation_of("teams", EVE) == '{"id": "a"}'
        assert uow.identities.email_of("teams", "29:eve") == EVE
        assert uow.identities.external_id_of("slack", EVE) == "U0EVE"
        assert uow.identities.platforms_of(DANA) == []


def _queue(engine: Engine, recipient: Recipient, title: str, thread: str = "approval:1") -> None:
    with uows(engine)() as uow:
        message = Message(kind="approval", title=title)
        uow.notifications.add(
            Outgoing(recipient=recipient, message=message, thread_key=thread), at=T0
        )
        uow.commit()


def test_a_message_routed_to_two_platforms_is_one_row_each(engine: Engine) -> None:
    admins = Recipient.channel("admin")
    _queue(engine, admins, "v1")
    with uows(engine)() as uow:
        [taken] = uow.notifications.claim_due(T0, lease_until=T0 + MINUTE, limit=5)
        assert taken.platform is None
        legs = uow.notifications.route(taken.id, ["slack", "teams"], lease_until=T0 + MINUTE)
        assert [(leg.platform, leg.attempts, leg.outgoing) for leg in legs] == [
            ("slack", 1, taken.outgoing),
            ("teams", 1, taken.outgoing),
        ]
        first, copy = legs
        # Being sent, the copy is nobody else's to take; neither is newer than the other.
        assert uow.notifications.claim_due(T0, lease_until=T0 + MINUTE, limit=5) == []
        assert not uow.notifications.newer_in_thread(first.id)
        assert not uow.notifications.newer_in_thread(copy.id)
        uow.notifications.delivered(first.id, ref="C0ADMINS:1.0", at=T0)
        uow.notifications.delivered(copy.id, ref="19:admins;m1", at=T0)
        uow.commit()
    _queue(engine, admins, "v2")
    with uows(engine)() as uow:
        assert uow.notifications.refs_of(admins, "approval:1") == {
            "slack": "C0ADMINS:1.0",
            "teams": "19:admins;m1",
        }
        assert uow.notifications.newer_in_thread(copy.id)
        assert uow.notifications.refs_of(Recipient.member(ADMIN), "approval:1") == {}
        assert uow.notifications.recipients_of("approval:1") == [admins]
        [again] = uow.notifications.claim_due(T0, lease_until=T0 + MINUTE, limit=5)
        assert again.outgoing.message.title == "v2"
        assert again.platform is None


def test_the_migration_marks_what_was_delivered_before_it_as_slacks(tmp_path: Path) -> None:
    engine = world.engine_for(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0006")
    with engine.begin() as connection:
        for ref, status in (
            ("C0A:1.0", "delivered"),
            ("console-1", "delivered"),
            (None, "pending"),
        ):
            connection.execute(
                text(
                    "INSERT INTO notification (recipient_kind, recipient_address, message,"
                    " status, attempts, created_at, next_attempt_at, ref) VALUES ('channel',"
                    " 'admin', '{}', :status, 0, :at, :at, :ref)"
                ),
                {"status": status, "at": T0.isoformat(), "ref": ref},
            )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT ref, platform FROM notification ORDER BY id"))
        assert list(rows) == [("C0A:1.0", "slack"), ("console-1", "console"), (None, None)]
    config = Config()
    config.set_main_option("script_location", str(Path(migrate.__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    engine.dispose()
