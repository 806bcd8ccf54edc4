"""The running servers that deliver messages, so a one-off command leaves its messages to them.

`capdesk alerts run` and `capdesk digest` without chat credentials print their messages; while
a `capdesk serve` on the same database is seen here (the playground, or Slack with credentials
the command does not have), they leave them in the outbox for it instead.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_agent",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("seen_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("delivery_agent")
