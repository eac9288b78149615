"""Shipping details: mode, container and seal, ports, ETD on shipments; their date updates

Revision ID: 0003_shipping_details
Revises: 0002_qc_gate
Create Date: 2026-12-01 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_shipping_details"
down_revision = "0002_qc_gate"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("mode", sa.String(16)),
    ("container_number", sa.String(11)),
    ("seal_number", sa.String(100)),
    ("port_of_loading", sa.String(5)),
    ("port_of_discharge", sa.String(5)),
    ("estimated_departure", sa.Date()),
)


def upgrade() -> None:
    for name, type_ in _COLUMNS:
        op.add_column("shipments", sa.Column(name, type_, nullable=True), schema="orders")
    op.create_table(
        "shipment_updates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("estimated_departure", sa.Date(), nullable=True),
        sa.Column("estimated_arrival", sa.Date(), nullable=True),
        sa.Column("previous_departure", sa.Date(), nullable=True),
        sa.Column("previous_arrival", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("cause", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["orders.shipments.id"], ondelete="CASCADE",
            name="fk_shipment_updates_shipment_id_shipments",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.orders.id"], ondelete="CASCADE",
            name="fk_shipment_updates_order_id_orders",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shipment_updates"),
        schema="orders",
    )  # fmt: skip
    for col in ("shipment_id", "order_id"):
        op.create_index(f"ix_shipment_updates_{col}", "shipment_updates", [col], schema="orders")


def downgrade() -> None:
    op.drop_table("shipment_updates", schema="orders")
    for name, _ in _COLUMNS:
        op.drop_column("shipments", name, schema="orders")
