"""Claude Code's telemetry: hourly figures per member, series and batches already counted, and
what came from e-mails no member has.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COUNTS = (
    "cost_micros",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_creation",
    "sessions",
    "lines_added",
    "lines_removed",
    "commits",
    "pull_requests",
    "active_ms",
    "prompts",
    "tool_runs",
)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "telemetry_hourly",
        sa.Column("member_id", sa.Integer(), nullable=False),
        _utc("hour"),
        sa.Column("day", sa.Date(), nullable=False),
        *(_count(name) for name in _COUNTS),
        _utc("updated_at"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id", "hour"),
    )
    op.create_index("ix_telemetry_hourly_day", "telemetry_hourly", ["day", "member_id"])
    op.create_table(
        "telemetry_series",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _utc("seen_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_telemetry_series_seen_at", "telemetry_series", ["seen_at"])
    op.create_table(
        "telemetry_batch",
        sa.Column("digest", sa.String(length=64), nullable=False),
        _utc("received_at"),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_telemetry_batch_received_at", "telemetry_batch", ["received_at"])
    op.create_table(
        "telemetry_unmatched",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("group_name", sa.String(length=64), nullable=False),
        _count("points"),
        _count("cost_micros"),
        _utc("first_seen"),
        _utc("last_seen"),
        _utc("reported_at", nullable=True),
        sa.PrimaryKeyConstraint("email", "day", "group_name"),
    )


def downgrade() -> None:
    op.drop_table("telemetry_unmatched")
    op.drop_index("ix_telemetry_batch_received_at", table_name="telemetry_batch")
    op.drop_table("telemetry_batch")
    op.drop_index("ix_telemetry_series_seen_at", table_name="telemetry_series")
    op.drop_table("telemetry_series")
    op.drop_index("ix_telemetry_hourly_day", table_name="telemetry_hourly")
    op.drop_table("telemetry_hourly")
