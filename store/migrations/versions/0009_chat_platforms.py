"""Several chat platforms: each notification records the platform it goes to, and a member's
account on a platform keeps a conversation reference and when it was last used.

A message to a channel that has both a Slack and a Teams channel goes out once per platform:
the row delivered to the second is a copy of the first (`origin_id`). Updates to a card go to
the platform that holds it (`platform` with `ref`). Teams needs the conversation reference of
a person to write to them first; people are written to on the platform they used last.

Messages delivered before this revision went to Slack, except the ones the CLI printed
(`console-N`), which are marked as the console's.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("origin_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("chat_identity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("seen_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE notification SET platform = CASE WHEN ref LIKE 'console-%' "
        "THEN 'console' ELSE 'slack' END WHERE ref IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("chat_identity", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
        batch_op.drop_column("conversation")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("origin_id")
        batch_op.drop_column("platform")
