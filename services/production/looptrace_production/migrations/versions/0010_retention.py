"""Retention: when orders said each order completed (order_completions) and the cold storage of
completed orders' production records (production_archive: same columns, keys and indexes)

Revision ID: 0010_retention
Revises: 0008_photo_screening_summary
Create Date: 2026-12-01 20:00:00
"""

from alembic import op

from looptrace_shared.migration_ops import (
    create_archive_v1,
    create_order_completions_v1,
    drop_archive_v1,
)

revision = "0010_retention"
down_revision = "0009_order_closures"
branch_labels = None
depends_on = None

_TABLES = (
    "supplier_orders",
    "progress_log",
    "stage_notes",
    "photos",
    "order_documents",
    "assignment_warnings",
    "order_closures",
    "order_completions",
)


def upgrade() -> None:
    create_order_completions_v1("production")
    create_archive_v1("production", "production_archive", _TABLES)


def downgrade() -> None:
    drop_archive_v1("production_archive", _TABLES)
    op.drop_table("order_completions", schema="production")
