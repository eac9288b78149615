"""delay intervals on assessments and order rows; live samples for drift

Revision ID: 0002_drift
Revises: 0001
Create Date: 2026-12-01 11:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_drift"
down_revision = "0001"
branch_labels = None
depends_on = None

_INTERVAL = (
    ("delay_p10_days", sa.Float()),
    ("delay_p90_days", sa.Float()),
    ("completion_earliest", sa.Date()),
    ("completion_latest", sa.Date()),
)


def upgrade() -> None:
    for table in ("order_features", "risk_history"):
        for name, type_ in _INTERVAL:
            op.add_column(table, sa.Column(name, type_, nullable=True), schema="predictions")
    op.create_table(
        "live_samples",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("p_late", sa.Float(), nullable=False),
        sa.Column("delay_p50_days", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "as_of", name=op.f("pk_live_samples")),
        schema="predictions",
    )
    op.create_index(
        op.f("ix_live_samples_as_of"), "live_samples", ["as_of"], unique=False, schema="predictions"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_live_samples_as_of"), table_name="live_samples", schema="predictions")
    op.drop_table("live_samples", schema="predictions")
    for table in ("order_features", "risk_history"):
        for name, _ in reversed(_INTERVAL):
            op.drop_column(table, name, schema="predictions")
