"""analytics: stage rollups by day and suppliers' stage totals (stage figures over any range)

Revision ID: 0009_analytics_stage_days
Revises: 0008_analytics_week_parts
Create Date: 2026-12-01 23:10:00

A range of days that is not whole months read the stage facts of the days at its ends (about
3 × 10^4 rows for eleven days of 10^6 facts) twice, and every admin stage figure summed each
supplier's stages stage by stage (4 × 10^4 rows over all time) although only the suppliers
shown need their stages. Now:

- ``analytics_stage_histogram_days``: the overrun histogram by day, for the edge days;
- ``analytics_supplier_total_parts`` / ``_days``: each supplier's stage totals (all its
  stages) by week part and by day; by month they are new columns of
  ``analytics_supplier_months`` (which already counted completed stages and created lateness);
- indexes of the monthly and week-part supplier-stage rows by supplier, and the stage facts'
  index by supplier covering what is summed (the shown suppliers' worst stage, a supplier's
  own view): index-only scans, each supplier's entries together, instead of a heap block
  for nearly every row;
- the inspections' index by decision day covering what the QC figures read, and the
  replies by answer day (scorecards and QC over a range of days: index-only scans);
- no parallel workers for the rollups' scans (a few thousand rows each).

All filled from the stage facts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_analytics_stage_days"
down_revision = "0008_analytics_week_parts"
branch_labels = None
depends_on = None

S = "predictions"
PART = "greatest(date_trunc('week', completed_on::timestamp), date_trunc('month', completed_on::timestamp))::date"  # noqa: E501
SUMS = "count(*), sum(days_in_stage), sum(created_days), count(*) FILTER (WHERE created_days > 0)"
INTS = {"stage_number", "overrun_days"}
LENGTHS = {"supplier_id": 64, "category": 64, "season": 8, "stage_name": 128}
DIMS = "coalesce(category, '-'), coalesce(season, '-')"
TOTALS = ["supplier_id", "category", "season"]
QC_READ = ["supplier_id", "buyer_id", "category", "season", "inline", "first", "passed",
           "units", "critical", "major", "minor"]  # fmt: skip
WORST_STAGE = ["category", "season", "stage_name", "created_sum"]
FACT_SUMS = ["category", "season", "stage_number", "stage_name", "days_in_stage", "overrun_days",
             "created_days"]  # fmt: skip
# read a few thousand rows at a time: parallel workers only add their start-up (and, on a
# busy machine, a wait for a core) to such queries
ROLLUPS = (
    "analytics_stage_histogram", "analytics_stage_suppliers", "analytics_stage_histogram_parts",
    "analytics_stage_supplier_parts", "analytics_stage_histogram_days",
    "analytics_supplier_total_parts", "analytics_supplier_total_days", "analytics_supplier_months",
)  # fmt: skip


def _create(name: str, period: str, keys: list[str], *measures: sa.Column) -> None:  # type: ignore[type-arg]
    key_columns = [
        sa.Column(k, sa.Integer() if k in INTS else sa.String(length=LENGTHS[k]), nullable=False)
        for k in keys
    ]
    op.create_table(
        name,
        sa.Column(period, sa.Date(), nullable=False),
        *key_columns,
        *measures,
        sa.PrimaryKeyConstraint(period, *keys, name=op.f(f"pk_{name}")),
        schema=S,
    )
    op.execute(f"ALTER TABLE {S}.{name} SET (fillfactor = 50)")


def _supplier_index(include: list[str]) -> None:
    op.drop_index("ix_analytics_stages_supplier", table_name="analytics_stages", schema=S)
    op.create_index("ix_analytics_stages_supplier", "analytics_stages",
                    ["supplier_id", "completed_on"], schema=S, postgresql_include=include)  # fmt: skip


def _qc_indexes(include: list[str] | None) -> None:
    """The inspections by decision day covering what the QC figures read, and the replies by
    answer day (None: as before, no replies' index)."""
    op.drop_index("ix_analytics_inspections_decided", table_name="analytics_inspections", schema=S)
    op.create_index("ix_analytics_inspections_decided", "analytics_inspections", ["decided_on"],
                    schema=S, postgresql_include=include or [])  # fmt: skip
    if include is None:
        op.drop_index("ix_analytics_replies_answered", table_name="analytics_replies", schema=S)
    else:
        op.create_index("ix_analytics_replies_answered", "analytics_replies", ["answered_on"],
                        schema=S, postgresql_include=["supplier_id", "buyer_id", "hours"])  # fmt: skip


def _sums(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(n, sa.BigInteger(), nullable=False) for n in names]


def upgrade() -> None:
    _create(
        "analytics_stage_histogram_days",
        "day",
        ["category", "season", "stage_number", "stage_name", "overrun_days"],
        *_sums("n", "days_sum", "created_sum", "slipped_n"),
    )
    for name, period in (("analytics_supplier_total_parts", "week_part"),
                         ("analytics_supplier_total_days", "day")):  # fmt: skip
        _create(
            name, period, TOTALS, *_sums("n", "days_sum", "created_sum", "slipped_n", "overrun_sum")
        )
    for column in ("stage_days", "overrun_days", "slipped"):
        op.add_column(
            "analytics_supplier_months",
            sa.Column(column, sa.BigInteger(), server_default="0", nullable=False),
            schema=S,
        )
    for table, period in (("analytics_stage_suppliers", "month"),
                          ("analytics_stage_supplier_parts", "week_part")):  # fmt: skip
        op.create_index(f"ix_{table}_supplier", table, ["supplier_id", period], schema=S,
                        postgresql_include=WORST_STAGE)  # fmt: skip
    _supplier_index(FACT_SUMS)
    _qc_indexes(QC_READ)
    for table in ROLLUPS:
        op.execute(f"ALTER TABLE {S}.{table} SET (parallel_workers = 0)")
    _fill()


def _fill() -> None:
    op.execute(
        f"INSERT INTO {S}.analytics_stage_histogram_days (day, category, season, stage_number,"
        " stage_name, overrun_days, n, days_sum, created_sum, slipped_n)"
        f" SELECT completed_on, {DIMS}, stage_number, stage_name, overrun_days, {SUMS}"
        f" FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1"
    )
    for name, period in (("analytics_supplier_total_parts", PART),
                         ("analytics_supplier_total_days", "completed_on")):  # fmt: skip
        column = "week_part" if period == PART else "day"
        op.execute(
            f"INSERT INTO {S}.{name} ({column}, supplier_id, category, season, n, days_sum,"
            f" created_sum, slipped_n, overrun_sum) SELECT {period}, coalesce(supplier_id, '-'),"
            f" {DIMS}, {SUMS}, sum(overrun_days) FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4"
            " ORDER BY 1"  # each period's rows together, as the feed writes them
        )
    op.execute(
        f"UPDATE {S}.analytics_supplier_months m SET stage_days = s.d, overrun_days = s.o,"
        " slipped = s.sl FROM (SELECT date_trunc('month', completed_on)::date AS month,"
        " coalesce(supplier_id, '-') AS supplier_id, coalesce(category, '-') AS category, coalesce(season, '-') AS season,"
        " sum(days_in_stage) AS d, sum(overrun_days) AS o,"
        " count(*) FILTER (WHERE created_days > 0) AS sl"
        f" FROM {S}.analytics_stages GROUP BY 1, 2, 3, 4) s WHERE m.month = s.month"
        " AND m.supplier_id = s.supplier_id AND m.category = s.category AND m.season = s.season"
    )


def downgrade() -> None:
    for table in ROLLUPS:
        op.execute(f"ALTER TABLE {S}.{table} RESET (parallel_workers)")
    for table in ("analytics_stage_supplier_parts", "analytics_stage_suppliers"):
        op.drop_index(f"ix_{table}_supplier", table_name=table, schema=S)
    _supplier_index([])
    _qc_indexes(None)
    for column in ("slipped", "overrun_days", "stage_days"):
        op.drop_column("analytics_supplier_months", column, schema=S)
    for name in ("analytics_supplier_total_days", "analytics_supplier_total_parts",
                 "analytics_stage_histogram_days"):  # fmt: skip
        op.drop_table(name, schema=S)
