"""analytics: stage rollups by week part (figures over a range of days)

Revision ID: 0008_analytics_week_parts
Revises: 0007_analytics_order_dates
Create Date: 2026-12-01 19:55:00

A range of days that is not whole months was answered from the stage facts: ~10^5 rows for
five weeks of 10^6. These two rollups hold the same sums as the monthly ones, by week part
(``analytics.periods``: a week's days within one month); such a range reads the whole parts
inside it and the stage facts of the days at its ends only. Filled from the stage facts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_analytics_week_parts"
down_revision = "0007_analytics_order_dates"
branch_labels = None
depends_on = None

S = "predictions"
PART = "greatest(date_trunc('week', completed_on::timestamp), date_trunc('month', completed_on::timestamp))::date"  # noqa: E501
SUMS = "count(*), sum(days_in_stage), sum(created_days), count(*) FILTER (WHERE created_days > 0)"


def _create(name: str, keys: list[str], *measures: sa.Column) -> None:  # type: ignore[type-arg]
    """A rollup keyed by week part and ``keys`` (strings, or the stage's number)."""
    key_columns = [
        sa.Column(k, sa.Integer() if k in INTS else sa.String(length=LENGTHS[k]), nullable=False)
        for k in keys
    ]
    op.create_table(
        name,
        sa.Column("week_part", sa.Date(), nullable=False),
        *key_columns,
        *measures,
        sa.PrimaryKeyConstraint("week_part", *keys, name=op.f(f"pk_{name}")),
        schema=S,
    )


INTS = {"stage_number", "overrun_days"}
LENGTHS = {"supplier_id": 64, "category": 64, "season": 8, "stage_name": 128}
STAGE = ["category", "season", "stage_number", "stage_name"]


def _sums(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(n, sa.BigInteger(), nullable=False) for n in names]


def upgrade() -> None:
    _create(
        "analytics_stage_histogram_parts",
        [*STAGE, "overrun_days"],
        *_sums("n", "days_sum", "created_sum", "slipped_n"),
    )
    _create(
        "analytics_stage_supplier_parts",
        ["supplier_id", *STAGE],
        *_sums("n", "days_sum", "overrun_sum", "created_sum", "slipped_n"),
    )
    for table in ("analytics_stage_histogram_parts", "analytics_stage_supplier_parts"):
        op.execute(f"ALTER TABLE {S}.{table} SET (fillfactor = 50)")
    dims = "coalesce(category, '-'), coalesce(season, '-'), stage_number, stage_name"
    op.execute(
        f"INSERT INTO {S}.analytics_stage_histogram_parts (week_part, category, season,"
        " stage_number, stage_name, overrun_days, n, days_sum, created_sum, slipped_n)"
        f" SELECT {PART}, {dims}, overrun_days, {SUMS} FROM {S}.analytics_stages"
        " GROUP BY 1, 2, 3, 4, 5, 6"
    )
    op.execute(
        f"INSERT INTO {S}.analytics_stage_supplier_parts (week_part, supplier_id, category,"
        " season, stage_number, stage_name, n, days_sum, created_sum, slipped_n, overrun_sum)"
        f" SELECT {PART}, coalesce(supplier_id, '-'), {dims}, {SUMS}, sum(overrun_days)"
        f" FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4, 5, 6"
    )


def downgrade() -> None:
    op.drop_table("analytics_stage_supplier_parts", schema=S)
    op.drop_table("analytics_stage_histogram_parts", schema=S)
