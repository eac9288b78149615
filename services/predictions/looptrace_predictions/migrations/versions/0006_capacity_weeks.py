"""capacity weeks: production's latest utilisation per supplier-week and bucket (load feature)

Revision ID: 0006_capacity_weeks
Revises: 0005_quality_risk
Create Date: 2026-12-01 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_capacity_weeks"
down_revision = "0005_quality_risk"
branch_labels = None
depends_on = None

S = "predictions"


def upgrade() -> None:
    op.create_table(
        "supplier_capacity_weeks",
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(length=128), nullable=False),
        sa.Column("utilisation_pct", sa.Float(), nullable=False),
        sa.Column("overloaded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "supplier_id", "week", "bucket", name=op.f("pk_supplier_capacity_weeks")
        ),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("supplier_capacity_weeks", schema=S)
