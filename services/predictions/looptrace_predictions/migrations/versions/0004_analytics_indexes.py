"""analytics: indexes for the feed and for figures over a range of days

Revision ID: 0004_analytics_indexes
Revises: 0003_analytics
Create Date: 2026-12-01 13:55:00

- inspections by order: a batch that learns an order's buyer, category, season or plan
  redraws that order's inspections (without it, every such batch read the whole table);
- stage facts by completion day, covering what the stage and scorecard figures sum: a range
  of days that is not whole months is answered from the facts, by an index-only range scan
  instead of reading all 10^6 rows;
- orders by the day they finished and the day they were assigned (the scorecard's on-time and
  first-report figures over a range of days).
"""

from alembic import op

revision = "0004_analytics_indexes"
down_revision = "0003_analytics"
branch_labels = None
depends_on = None

S = "predictions"


def upgrade() -> None:
    op.create_index(
        "ix_analytics_inspections_order", "analytics_inspections", ["order_id"], schema=S
    )
    op.create_index(
        "ix_analytics_stages_completed",
        "analytics_stages",
        ["completed_on"],
        schema=S,
        postgresql_include=[
            "supplier_id",
            "category",
            "season",
            "stage_number",
            "stage_name",
            "days_in_stage",
            "overrun_days",
            "created_days",
        ],  # fmt: skip
    )
    op.create_index("ix_analytics_orders_finished", "analytics_orders", ["finished_on"], schema=S)
    op.create_index("ix_analytics_orders_assigned", "analytics_orders", ["assigned_on"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_analytics_orders_assigned", table_name="analytics_orders", schema=S)
    op.drop_index("ix_analytics_orders_finished", table_name="analytics_orders", schema=S)
    op.drop_index("ix_analytics_stages_completed", table_name="analytics_stages", schema=S)
    op.drop_index("ix_analytics_inspections_order", table_name="analytics_inspections", schema=S)
