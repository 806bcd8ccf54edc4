"""Alert firings wait for their digests; seats remember the day they were first seen.

A firing names its group and, per audience, since when it waits for a digest (NULL once
taken), so a digest takes each firing exactly once, also with several replicas. A seat that was
never used is idle from the day the alert rules first saw it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_firing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_name", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("admins_waiting_since", store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("owners_waiting_since", store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_alert_firing_admins_waiting",
            ["admins_waiting_since"],
            unique=False,
            sqlite_where=sa.text("admins_waiting_since IS NOT NULL"),
            postgresql_where=sa.text("admins_waiting_since IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_alert_firing_owners_waiting",
            ["group_name"],
            unique=False,
            sqlite_where=sa.text("owners_waiting_since IS NOT NULL"),
            postgresql_where=sa.text("owners_waiting_since IS NOT NULL"),
        )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_seen", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("first_seen")
    with op.batch_alter_table("alert_firing", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_firing_owners_waiting")
        batch_op.drop_index("ix_alert_firing_admins_waiting")
        batch_op.drop_column("owners_waiting_since")
        batch_op.drop_column("admins_waiting_since")
        batch_op.drop_column("group_name")
