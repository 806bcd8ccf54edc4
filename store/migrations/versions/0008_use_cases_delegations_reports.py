"""What the extra was used for, delegations while away, and indexes for the reports.

A temporary grant's holder (and a permanent raise's, 30 days on) is asked what it was for:
one question per request, answered, skipped or left open. An owner or admin away hands their
approval cards to a delegate, or to the group's other owners and the admins, for a while. The
reports read requests by when they were made and the audit log by action over a period.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "use_case_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        _utc("asked_at"),
        _utc("reminded_at", nullable=True),
        _utc("answered_at", nullable=True),
        sa.Column("use_case", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("skipped", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_use_case_question_asked_at", "use_case_question", ["asked_at"])
    op.create_index("ix_use_case_question_email", "use_case_question", ["email"])
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator", sa.String(length=320), nullable=False),
        sa.Column("delegate", sa.String(length=320), nullable=True),
        _utc("starts_at"),
        _utc("ends_at"),
        _utc("created_at"),
        _utc("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegation_delegator_ends", "delegation", ["delegator", "ends_at"])
    op.create_index("ix_delegation_ends_at", "delegation", ["ends_at"])
    # Plain CREATE INDEX, not a batch: on SQLite a batch may copy the table, and the audit
    # log's append-only triggers would not come with it.
    op.create_index("ix_audit_action_at", "audit_log", ["action", "at"])
    op.create_index("ix_request_created_at", "request", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_request_created_at", table_name="request")
    op.drop_index("ix_audit_action_at", table_name="audit_log")
    op.drop_index("ix_delegation_ends_at", table_name="delegation")
    op.drop_index("ix_delegation_delegator_ends", table_name="delegation")
    op.drop_table("delegation")
    op.drop_index("ix_use_case_question_email", table_name="use_case_question")
    op.drop_index("ix_use_case_question_asked_at", table_name="use_case_question")
    op.drop_table("use_case_question")
