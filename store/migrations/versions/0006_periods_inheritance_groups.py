"""Caps have a period; grants remember whether the cap before them was inherited; members
keep the backend groups they are in.

A native increase request asks for more on the period the member hit (daily, weekly or
monthly), so requests, grants and operations carry it. A grant on an inherited cap reverts by
letting the member inherit again (an operation with `inherit`), so the operation records what
the connector saw just before applying it, and the grant keeps it with the cap before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PERIOD = sa.Enum(
    "daily",
    "weekly",
    "monthly",
    name="period",
    native_enum=False,
    length=32,
)


def _period() -> sa.Column[str]:
    return sa.Column("period", _PERIOD, nullable=False, server_default="monthly")


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backend_groups", sa.JSON(), nullable=True))
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.add_column(_period())
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.add_column(_period())
        batch_op.add_column(sa.Column("cap_before_cents", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("inherited_before", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.add_column(_period())
        batch_op.add_column(
            sa.Column("inherit", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("inherited_before", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.drop_column("inherited_before")
        batch_op.drop_column("inherit")
        batch_op.drop_column("period")
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_column("inherited_before")
        batch_op.drop_column("cap_before_cents")
        batch_op.drop_column("period")
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_column("period")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("backend_groups")
