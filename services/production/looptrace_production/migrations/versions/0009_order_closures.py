"""order closures: a cancelled (or signed-off) order's plan stops loading and taking reports

Revision ID: 0009_order_closures
Revises: 0008_photo_screening_summary
Create Date: 2026-12-01 19:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_order_closures"
down_revision = "0008_photo_screening_summary"
branch_labels = None
depends_on = None

S = "production"


def upgrade() -> None:
    op.add_column(
        "supplier_orders",
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.add_column("supplier_orders", sa.Column("closed_as", sa.String(16), nullable=True), schema=S)
    op.create_table(
        "order_closures",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("order_closures", schema=S)
    op.drop_column("supplier_orders", "closed_as", schema=S)
    op.drop_column("supplier_orders", "closed_at", schema=S)
