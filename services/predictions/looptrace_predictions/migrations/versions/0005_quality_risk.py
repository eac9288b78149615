"""quality risk: the inspections quality reports, and each order's quality-risk level

Revision ID: 0005_quality_risk
Revises: 0004_analytics_indexes
Create Date: 2026-12-01 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_quality_risk"
down_revision = "0004_analytics_indexes"
branch_labels = None
depends_on = None

S = "predictions"


def upgrade() -> None:
    op.create_table(
        "inspection_log",
        sa.Column("inspection_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=True),
        sa.Column("inspection_stage", sa.String(length=128), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("sample_size", sa.BigInteger(), nullable=False),
        sa.Column("critical", sa.BigInteger(), nullable=False),
        sa.Column("major", sa.BigInteger(), nullable=False),
        sa.Column("minor", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("inspection_id", name=op.f("pk_inspection_log")),
        schema=S,
    )
    op.create_index(op.f("ix_inspection_log_order_id"), "inspection_log", ["order_id"], schema=S)
    op.create_index(
        "ix_inspection_log_supplier_day", "inspection_log", ["supplier_id", "inspected_on"],
        schema=S,
    )  # fmt: skip
    op.add_column("order_features", sa.Column("quality_risk_level", sa.String(16)), schema=S)
    op.add_column("order_features", sa.Column("quality_probability", sa.Float()), schema=S)


def downgrade() -> None:
    op.drop_column("order_features", "quality_probability", schema=S)
    op.drop_column("order_features", "quality_risk_level", schema=S)
    op.drop_index("ix_inspection_log_supplier_day", table_name="inspection_log", schema=S)
    op.drop_index(op.f("ix_inspection_log_order_id"), table_name="inspection_log", schema=S)
    op.drop_table("inspection_log", schema=S)
