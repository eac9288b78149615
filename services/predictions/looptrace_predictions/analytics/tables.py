"""Tables of the analytics read model (``analytics_*`` in the predictions schema).

``analytics_journal`` keeps every event the read model took, as it arrived: rebuilding
replays it. Everything else is derived from it and can be dropped and rebuilt.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from looptrace_predictions.base import Base


class JournalRow(Base):
    __tablename__ = "analytics_journal"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(255))
    envelope: Mapped[str] = mapped_column(Text)


ORDER_DIMS = ["supplier_id", "buyer_id", "category", "season"]


class AnalyticsOrderRow(Base):
    """One order: its dimensions, where it stands, and its state (``OrderRecord``) as JSON."""

    __tablename__ = "analytics_orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_number: Mapped[str | None] = mapped_column(String(64))
    buyer_id: Mapped[str | None] = mapped_column(String(64))
    supplier_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    season: Mapped[str | None] = mapped_column(String(8))
    placed_on: Mapped[date | None] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)
    workflow_status: Mapped[str | None] = mapped_column(String(32))
    production_status: Mapped[str | None] = mapped_column(String(32))
    is_open: Mapped[bool] = mapped_column(Boolean)
    delayed: Mapped[bool] = mapped_column(Boolean)
    current_stage: Mapped[str | None] = mapped_column(String(128))
    projected_completion: Mapped[date | None] = mapped_column(Date)
    finished_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    assigned_on: Mapped[date | None] = mapped_column(Date)
    first_report_hours: Mapped[float | None] = mapped_column(Float)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_analytics_orders_buyer", "buyer_id", "placed_on"),
        Index("ix_analytics_orders_supplier", "supplier_id", "placed_on"),
        Index("ix_analytics_orders_open_target", "is_open", "target_date"),
        # scorecards over a range of days: index-only scans of the finished and assigned
        Index(
            "ix_analytics_orders_finished",
            "finished_on",
            postgresql_include=[*ORDER_DIMS, "on_time"],
        ),
        Index(
            "ix_analytics_orders_assigned",
            "assigned_on",
            postgresql_include=[*ORDER_DIMS, "first_report_hours"],
        ),
        # the delivery projection: an index-only scan of the open orders by target date
        Index(
            "ix_analytics_orders_open_projection",
            "target_date",
            postgresql_include=[*ORDER_DIMS, "order_id", "order_number", "projected_completion"],
            postgresql_where=text("is_open"),
        ),
    )


STAGE_SUMS = ["supplier_id", "category", "season", "stage_number", "stage_name",
              "days_in_stage", "overrun_days", "created_days"]  # fmt: skip


class StageFactRow(Base):
    """A completed stage (``StageFact``): the rows behind filtered stage figures."""

    __tablename__ = "analytics_stages"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage_name: Mapped[str] = mapped_column(String(128))
    supplier_id: Mapped[str | None] = mapped_column(String(64))
    buyer_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    season: Mapped[str | None] = mapped_column(String(8))
    completed_on: Mapped[date] = mapped_column(Date)
    days_in_stage: Mapped[int] = mapped_column(Integer)
    overrun_days: Mapped[int] = mapped_column(Integer)
    late_days: Mapped[int] = mapped_column(Integer)
    created_days: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # a supplier's stages (its view; the worst stage of the suppliers shown): index-only
        Index(
            "ix_analytics_stages_supplier",
            "supplier_id",
            "completed_on",
            postgresql_include=STAGE_SUMS[1:],
        ),
        Index("ix_analytics_stages_buyer", "buyer_id", "completed_on"),
        # a range of days: an index-only scan of what the stage and scorecard figures sum
        Index("ix_analytics_stages_completed", "completed_on", postgresql_include=STAGE_SUMS),
    )


class _StageSums:
    """Completed stages of one stage name by category and season: count and sums of days."""

    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    season: Mapped[str] = mapped_column(String(8), primary_key=True)
    stage_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    days_sum: Mapped[int] = mapped_column(BigInteger)
    created_sum: Mapped[int] = mapped_column(BigInteger)
    slipped_n: Mapped[int] = mapped_column(BigInteger)


class _StageBins(_StageSums):
    """… and by overrun (whole days): an exact histogram, so medians and p90s of any set of
    periods are exact."""

    overrun_days: Mapped[int] = mapped_column(Integer, primary_key=True)


class _SupplierStages(_StageSums):
    """… and by supplier, with the sum of the overruns."""

    supplier_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    overrun_sum: Mapped[int] = mapped_column(BigInteger)


# what the worst stage of a supplier reads (and the filters it takes) of its stage rows
WORST_STAGE = ["category", "season", "stage_name", "created_sum"]


class _ByMonth:
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # of completion


class _ByWeekPart:
    week_part: Mapped[date] = mapped_column(Date, primary_key=True)  # of completion (periods)


class _ByDay:
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # of completion


class _SupplierTotals:
    """Completed stages of one supplier (all its stages) by category and season."""

    supplier_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    season: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    days_sum: Mapped[int] = mapped_column(BigInteger)
    created_sum: Mapped[int] = mapped_column(BigInteger)
    slipped_n: Mapped[int] = mapped_column(BigInteger)
    overrun_sum: Mapped[int] = mapped_column(BigInteger)


class StageHistogramRow(_ByMonth, _StageBins, Base):
    __tablename__ = "analytics_stage_histogram"  # whole months


class StageSupplierRow(_ByMonth, _SupplierStages, Base):
    __tablename__ = "analytics_stage_suppliers"
    # the stages of the suppliers shown (their worst stage): index-only, dense by supplier
    __table_args__ = (
        Index(
            "ix_analytics_stage_suppliers_supplier",
            "supplier_id",
            "month",
            postgresql_include=WORST_STAGE,
        ),
    )


class StageHistogramPartRow(_ByWeekPart, _StageBins, Base):
    __tablename__ = "analytics_stage_histogram_parts"  # a range of days


class StageSupplierPartRow(_ByWeekPart, _SupplierStages, Base):
    __tablename__ = "analytics_stage_supplier_parts"
    __table_args__ = (
        Index(
            "ix_analytics_stage_supplier_parts_supplier",
            "supplier_id",
            "week_part",
            postgresql_include=WORST_STAGE,
        ),
    )


# the days at the ends of a range that no whole week part covers (``covered``): about a
# fifth of the rows of the facts of those days (histogram), a tenth (suppliers' totals)
class StageHistogramDayRow(_ByDay, _StageBins, Base):
    __tablename__ = "analytics_stage_histogram_days"


class SupplierTotalPartRow(_ByWeekPart, _SupplierTotals, Base):
    __tablename__ = "analytics_supplier_total_parts"


class SupplierTotalDayRow(_ByDay, _SupplierTotals, Base):
    __tablename__ = "analytics_supplier_total_days"


QC_READ = ["supplier_id", "buyer_id", "category", "season", "inline", "first", "passed",
           "units", "critical", "major", "minor"]  # fmt: skip


class InspectionFactRow(Base):
    """One inspection: scheduled (plan) and decided (result)."""

    __tablename__ = "analytics_inspections"

    inspection_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    supplier_id: Mapped[str | None] = mapped_column(String(64))
    buyer_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    season: Mapped[str | None] = mapped_column(String(8))
    stage_number: Mapped[int | None] = mapped_column(Integer)
    inline: Mapped[bool] = mapped_column(Boolean)
    first: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    decided_on: Mapped[date | None] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    critical: Mapped[int] = mapped_column(Integer)
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # QC figures and scorecards over a range of days: index-only scans (an inspection's
        # row changes once, when it is decided, and its decided_on with it)
        Index("ix_analytics_inspections_decided", "decided_on", postgresql_include=QC_READ),
        Index("ix_analytics_inspections_supplier", "supplier_id", "decided_on"),
        Index("ix_analytics_inspections_buyer", "buyer_id", "decided_on"),
        Index("ix_analytics_inspections_order", "order_id"),
    )


class ReplyRow(Base):
    """A supplier's answer to a buyer's message."""

    __tablename__ = "analytics_replies"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    supplier_id: Mapped[str | None] = mapped_column(String(64))
    buyer_id: Mapped[str | None] = mapped_column(String(64))
    answered_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        # scorecards over a range of days: an index-only scan
        Index(
            "ix_analytics_replies_answered",
            "answered_on",
            postgresql_include=["supplier_id", "buyer_id", "hours"],
        ),
    )


DERIVED: tuple[Any, ...] = (
    AnalyticsOrderRow, StageFactRow, StageHistogramRow, StageSupplierRow, StageHistogramPartRow,
    StageSupplierPartRow, StageHistogramDayRow, SupplierTotalPartRow, SupplierTotalDayRow,
    InspectionFactRow, ReplyRow,
)  # fmt: skip


class SupplierMonthRow(Base):
    """A supplier's activity in a month: each sum counted in the month it happened in."""

    __tablename__ = "analytics_supplier_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    season: Mapped[str] = mapped_column(String(8), primary_key=True)
    finished: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    reports: Mapped[int] = mapped_column(Integer)
    report_hours: Mapped[float] = mapped_column(Float)
    first_inspections: Mapped[int] = mapped_column(Integer)
    first_passed: Mapped[int] = mapped_column(Integer)
    reinspections: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    critical: Mapped[int] = mapped_column(Integer)
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)
    replies: Mapped[int] = mapped_column(Integer)
    reply_hours: Mapped[float] = mapped_column(Float)
    stages: Mapped[int] = mapped_column(Integer, server_default="0")  # completed, by its month
    created_days: Mapped[int] = mapped_column(Integer, server_default="0")  # lateness they created
    # … and the rest of a supplier's stage totals (the stage figure's ``by_supplier``)
    stage_days: Mapped[int] = mapped_column(BigInteger, server_default="0")  # days in stage
    overrun_days: Mapped[int] = mapped_column(BigInteger, server_default="0")
    slipped: Mapped[int] = mapped_column(BigInteger, server_default="0")  # created > 0


class OrderCountRow(Base):
    """Orders counted by month placed, category, season and where they stand."""

    __tablename__ = "analytics_order_counts"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    season: Mapped[str] = mapped_column(String(8), primary_key=True)
    workflow_status: Mapped[str] = mapped_column(String(32), primary_key=True)
    production_status: Mapped[str] = mapped_column(String(32), primary_key=True)
    is_open: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    delayed: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    current_stage: Mapped[str] = mapped_column(String(128), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class QcWeekRow(Base):
    """Inline inspections summed by week, category and season (the DHU trend)."""

    __tablename__ = "analytics_qc_weeks"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    season: Mapped[str] = mapped_column(String(8), primary_key=True)
    first_inspections: Mapped[int] = mapped_column(Integer)
    first_passed: Mapped[int] = mapped_column(Integer)
    reinspections: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    critical: Mapped[int] = mapped_column(Integer)
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)


DERIVED = (*DERIVED, SupplierMonthRow, OrderCountRow, QcWeekRow)
