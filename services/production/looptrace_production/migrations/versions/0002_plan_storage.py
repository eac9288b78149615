"""cheaper plan updates: lz4 compression of the plan column, room for HOT updates

Every progress report rewrites an order's plan. With the default fill factor the new row
version rarely fits on its page, so all six indexes get a new entry per report; leaving 30 %
free lets PostgreSQL update in place (HOT). lz4 compresses the plan faster than pglz (where
the server lacks lz4 the column keeps the default).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 21:45:00
"""

from alembic import op

from looptrace_shared.migration_ops import use_lz4

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "production.supplier_orders"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 70)")
    use_lz4(TABLE, "plan")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN plan SET COMPRESSION DEFAULT")
    op.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")
