"""Retention: when orders said each order completed (order_completions) and the cold storage of
completed orders' quality records (quality_archive: same columns, keys and indexes)

Revision ID: 0004_retention
Revises: 0003
Create Date: 2026-12-01 19:50:00
"""

from alembic import op

from looptrace_shared.migration_ops import (
    create_archive_v1,
    create_order_completions_v1,
    drop_archive_v1,
)

revision = "0004_retention"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = (
    "order_lots",
    "inspections",
    "inspection_defects",
    "inline_checks",
    "photo_screenings",
    "screening_labels",
    "order_completions",
)


def upgrade() -> None:
    create_order_completions_v1("quality")
    create_archive_v1("quality", "quality_archive", _TABLES)


def downgrade() -> None:
    drop_archive_v1("quality_archive", _TABLES)
    op.drop_table("order_completions", schema="quality")
