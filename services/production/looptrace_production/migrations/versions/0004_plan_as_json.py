"""plan column as json, not jsonb: cheaper to rewrite on every progress report

Every accepted report rewrites the order's plan. jsonb converts the text into its binary form
on each write (about half the cost of the UPDATE in bench/production_bench.py); json keeps the
text, checked for syntax only. The service always reads the plan whole, so jsonb's indexable
form bought nothing. The column keeps lz4 compression where the server has it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 22:55:00
"""

from alembic import op

from looptrace_shared.migration_ops import use_lz4

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "production.supplier_orders"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN plan TYPE json USING plan::json")
    op.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 50)")
    use_lz4(TABLE, "plan")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN plan TYPE jsonb USING plan::jsonb")
    op.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 70)")
    use_lz4(TABLE, "plan")
