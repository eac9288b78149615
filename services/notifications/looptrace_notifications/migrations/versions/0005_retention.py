"""Retention: when an order completed (order_contacts.completed_at) and the archive schema of
its messages (notifications_archive: messages, message_reads; same columns, keys, indexes)

Revision ID: 0005_retention
Revises: 0004_reader_role
Create Date: 2026-12-01 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_retention"
down_revision = "0004_reader_role"
branch_labels = None
depends_on = None

_TABLES = ("messages", "message_reads")


def upgrade() -> None:
    op.add_column(
        "order_contacts",
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        schema="notifications",
    )
    op.execute("CREATE SCHEMA IF NOT EXISTS notifications_archive")
    for table in _TABLES:
        op.execute(
            f"CREATE TABLE notifications_archive.{table} "
            f"(LIKE notifications.{table} INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.execute(f"DROP TABLE notifications_archive.{table}")
    op.execute("DROP SCHEMA notifications_archive")
    op.drop_column("order_contacts", "completed_at", schema="notifications")
