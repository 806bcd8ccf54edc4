"""Index the operations outbox by person and kind.

`queued_cap` and the claim's "no earlier unfinished change to this seat" check look up a
person's operations of one kind; without this index each looked through every unfinished
operation, so a queue of N operations cost O(N) per decision and O(N) per claimed row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.create_index("ix_operation_person", ["email", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.drop_index("ix_operation_person")
