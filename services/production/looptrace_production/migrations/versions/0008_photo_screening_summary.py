"""photos: quality's advisory pre-screening summary, shown on the timeline

Revision ID: 0008_photo_screening_summary
Revises: 0007_supplier_network
Create Date: 2026-12-01 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_photo_screening_summary"
down_revision = "0007_supplier_network"
branch_labels = None
depends_on = None

COLUMNS = (
    ("screening_status", sa.String(length=16)),
    ("screening_reason", sa.String(length=32)),
    ("screening_score", sa.Float()),
    ("screening_flagged", sa.Integer()),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("photos", sa.Column(name, type_, nullable=True), schema="production")


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("photos", name, schema="production")
