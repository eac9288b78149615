"""Retention: the orders_archive schema (cold storage of completed orders and their records)

The archive tables have the live tables' columns, keys and indexes (``LIKE … INCLUDING
CONSTRAINTS INCLUDING INDEXES``) but no defaults and no foreign keys: rows arrive only by the
retention move, which copies every column. A later revision that adds a column to one of these
live tables adds it to the archive table too.

Revision ID: 0005_archive
Revises: 0004_invoices
Create Date: 2026-12-01 17:05:00
"""

from alembic import op

revision = "0005_archive"
down_revision = "0004_invoices"
branch_labels = None
depends_on = None

_TABLES = ("orders", "status_history", "shipments", "shipment_updates", "invoices")


def upgrade() -> None:
    # retention walks the completed orders in id order: (status, id) keeps that an index range
    op.create_index(
        "ix_orders_workflow_status_id", "orders", ["workflow_status", "id"], schema="orders"
    )
    op.execute("CREATE SCHEMA IF NOT EXISTS orders_archive")
    for table in _TABLES:
        op.execute(
            f"CREATE TABLE orders_archive.{table} "
            f"(LIKE orders.{table} INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.execute(f"DROP TABLE orders_archive.{table}")
    op.execute("DROP SCHEMA orders_archive")
    op.drop_index("ix_orders_workflow_status_id", "orders", schema="orders")
