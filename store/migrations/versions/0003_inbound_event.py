"""Remember the events chat platforms deliver, so a redelivered event is handled once.

Slack retries an event it thinks was lost (`X-Slack-Retry-Num`); several replicas may each
receive a copy, so the dedupe key lives in the database, not in a process.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_event",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_id"),
    )
    with op.batch_alter_table("inbound_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_event_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("inbound_event")
