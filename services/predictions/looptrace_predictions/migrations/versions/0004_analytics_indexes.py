"""analytics: indexes for the feed and for figures over a range of days; stages in the
supplier-month rollup

Revision ID: 0004_analytics_indexes
Revises: 0003_analytics
Create Date: 2026-12-01 13:55:00

- inspections by order: a batch that learns an order's buyer, category, season or plan
  redraws that order's inspections (without it, every such batch read the whole table);
- stage facts by completion day, covering what the stage and scorecard figures sum: a range
  of days that is not whole months is answered from the facts, by an index-only range scan
  instead of reading all 10^6 rows;
- room on each page of the order and rollup tables (fillfactor), so that the updates a batch
  makes (an order's state, a rollup row's sums; no indexed column changes) stay on the page
  (HOT) instead of adding an entry to every index;
- completed stages and the lateness they created in ``analytics_supplier_months`` (filled
  from ``analytics_stage_suppliers``), so that a scorecard reads one monthly rollup.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_analytics_indexes"
down_revision = "0003_analytics"
branch_labels = None
depends_on = None

S = "predictions"
FILL = {
    "analytics_orders": 60,
    "analytics_stage_histogram": 50,
    "analytics_stage_suppliers": 50,
    "analytics_supplier_months": 50,
    "analytics_order_counts": 50,
    "analytics_qc_weeks": 50,
}


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
    for column in ("stages", "created_days"):
        op.add_column(
            "analytics_supplier_months",
            sa.Column(column, sa.Integer(), server_default="0", nullable=False),
            schema=S,
        )
    op.execute(
        f"INSERT INTO {S}.analytics_supplier_months (month, supplier_id, category, season,"
        " finished, on_time, reports, report_hours, first_inspections, first_passed,"
        " reinspections, units, critical, major, minor, replies, reply_hours, stages,"
        " created_days) SELECT month, supplier_id, category, season, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
        " 0, 0, 0, 0, sum(n), sum(created_sum)"
        f" FROM {S}.analytics_stage_suppliers GROUP BY 1, 2, 3, 4"
        " ON CONFLICT (month, supplier_id, category, season) DO UPDATE"
        " SET stages = EXCLUDED.stages, created_days = EXCLUDED.created_days"
    )
    for table, fill in FILL.items():
        op.execute(f"ALTER TABLE {S}.{table} SET (fillfactor = {fill})")


def downgrade() -> None:
    for column in ("created_days", "stages"):
        op.drop_column("analytics_supplier_months", column, schema=S)
    for table in FILL:
        op.execute(f"ALTER TABLE {S}.{table} RESET (fillfactor)")
    op.drop_index("ix_analytics_stages_completed", table_name="analytics_stages", schema=S)
    op.drop_index("ix_analytics_inspections_order", table_name="analytics_inspections", schema=S)
