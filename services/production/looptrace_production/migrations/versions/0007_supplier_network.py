"""supplier network: suppliers, capacity, planned load, utilisation log, assignment warnings

Revision ID: 0007_supplier_network
Revises: 0006_order_documents
Create Date: 2026-12-01 16:45:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_supplier_network"
down_revision = "0006_order_documents"
branch_labels = None
depends_on = None

S = "production"


def _now() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("supplier_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("profile", postgresql.JSONB(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _now(),
        schema=S,
    )
    op.create_table(
        "supplier_capacity",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("supplier_id", sa.String(64), nullable=False, index=True),
        sa.Column("bucket", sa.String(120), nullable=False),
        sa.Column("units_per_week", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column(
            "reported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.UniqueConstraint("supplier_id", "bucket", "effective_from"),
        schema=S,
    )
    op.create_table(
        "load_deltas",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("supplier_id", sa.String(64), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(120), nullable=False),
        sa.Column("units", sa.Float(), nullable=False),
        schema=S,
    )
    op.create_table(
        "supplier_load",
        sa.Column("supplier_id", sa.String(64), primary_key=True),
        sa.Column("week", sa.Date(), primary_key=True),
        sa.Column("bucket", sa.String(120), primary_key=True),
        sa.Column("units", sa.Float(), nullable=False),
        sa.Column("overloaded", sa.Boolean(), nullable=False),
        schema=S,
    )
    op.create_table(
        "capacity_utilization_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("supplier_id", sa.String(64), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(120), nullable=False),
        sa.Column("load_units", sa.Float(), nullable=False),
        sa.Column("capacity_units", sa.Integer(), nullable=True),
        sa.Column("utilisation_pct", sa.Float(), nullable=True),
        sa.Column(
            "snapshot_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.UniqueConstraint("supplier_id", "week", "bucket"),
        schema=S,
    )
    op.create_table(
        "assignment_warnings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(64), nullable=False, index=True),
        sa.Column("supplier_id", sa.String(64), nullable=False),
        sa.Column("assigned_by", sa.String(320), nullable=False),
        sa.Column("warnings", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        schema=S,
    )


def downgrade() -> None:
    for table in (
        "assignment_warnings",
        "capacity_utilization_log",
        "supplier_load",
        "load_deltas",
        "supplier_capacity",
        "suppliers",
    ):
        op.drop_table(table, schema=S)
