"""analytics: orders by the day they finished and the day they were assigned (scorecards over
a range of days)

Revision ID: 0007_analytics_order_dates
Revises: 0006_capacity_weeks
Create Date: 2026-12-01 17:45:00

A scorecard over a range of days that is not whole months counts each supplier's finished
orders (on time or not) and first progress reports from the order rows: without these
indexes each such request read every order row, with its state, twice. Both cover what
those counts read and filter on (index-only scans); the columns they hold change once in an
order's life, so an order's other updates stay HOT.

The delivery projection reads the open orders by target date: a partial index of the open
ones covering what it reads, instead of fetching each open order's row (and its state).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_analytics_order_dates"
down_revision = "0006_capacity_weeks"
branch_labels = None
depends_on = None

S = "predictions"
DIMS = ["supplier_id", "buyer_id", "category", "season"]
OPEN = [*DIMS, "order_id", "order_number", "projected_completion"]


def upgrade() -> None:
    op.create_index(
        "ix_analytics_orders_finished",
        "analytics_orders",
        ["finished_on"],
        schema=S,
        postgresql_include=[*DIMS, "on_time"],
    )
    op.create_index(
        "ix_analytics_orders_assigned",
        "analytics_orders",
        ["assigned_on"],
        schema=S,
        postgresql_include=[*DIMS, "first_report_hours"],
    )
    op.create_index(
        "ix_analytics_orders_open_projection",
        "analytics_orders",
        ["target_date"],
        schema=S,
        postgresql_include=OPEN,
        postgresql_where=sa.text("is_open"),
    )


def downgrade() -> None:
    op.drop_index("ix_analytics_orders_open_projection", table_name="analytics_orders", schema=S)
    op.drop_index("ix_analytics_orders_assigned", table_name="analytics_orders", schema=S)
    op.drop_index("ix_analytics_orders_finished", table_name="analytics_orders", schema=S)
