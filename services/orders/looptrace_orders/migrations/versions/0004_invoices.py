"""Invoices: one supplier and one buyer invoice per shipment; gapless number series

Revision ID: 0004_invoices
Revises: 0003_shipping_details
Create Date: 2026-12-01 16:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_invoices"
down_revision = "0003_shipping_details"
branch_labels = None
depends_on = None

_MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("unit_amount", sa.Numeric(14, 4), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(20, 4), nullable=False),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("issued_at", _MOMENT, nullable=True),
        sa.Column("paid_at", _MOMENT, nullable=True),
        sa.Column("voided_at", _MOMENT, nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.orders.id"], ondelete="CASCADE",
            name="fk_invoices_order_id_orders",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["orders.shipments.id"], ondelete="CASCADE",
            name="fk_invoices_shipment_id_shipments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        schema="orders",
    )  # fmt: skip
    for col in ("order_id", "shipment_id"):
        op.create_index(f"ix_invoices_{col}", "invoices", [col], schema="orders")
    op.create_table(
        "invoice_series",
        sa.Column("series", sa.String(16), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", name="pk_invoice_series"),
        schema="orders",
    )


def downgrade() -> None:
    op.drop_table("invoice_series", schema="orders")
    op.drop_table("invoices", schema="orders")
