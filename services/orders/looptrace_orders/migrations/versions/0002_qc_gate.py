"""QC gate: the inspections production counted when the order's QC gate passed

Revision ID: 0002_qc_gate
Revises: 0001
Create Date: 2026-12-01 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_qc_gate"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders", sa.Column("qc_passed_inspections", sa.JSON(), nullable=True), schema="orders"
    )


def downgrade() -> None:
    op.drop_column("orders", "qc_passed_inspections", schema="orders")
