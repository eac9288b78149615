"""Tables of the ``predictions`` schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from looptrace_predictions.base import SCHEMA as SCHEMA
from looptrace_predictions.base import Base as Base
from looptrace_predictions.base import plumbing as plumbing


class OrderFeaturesRow(Base):
    """One order's live state (``LiveOrder.to_json()``) and its current risk level."""

    __tablename__ = "order_features"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    buyer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    supplier_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    risk_level: Mapped[str | None] = mapped_column(String(16))
    probability: Mapped[float | None] = mapped_column(Float)
    expected_delay_days: Mapped[float | None] = mapped_column(Float)
    delay_p10_days: Mapped[float | None] = mapped_column(Float)
    delay_p90_days: Mapped[float | None] = mapped_column(Float)
    completion_earliest: Mapped[date | None] = mapped_column(Date)
    completion_latest: Mapped[date | None] = mapped_column(Date)
    model_version: Mapped[str | None] = mapped_column(String(32))
    assessed_on: Mapped[date | None] = mapped_column(Date)
    quality_risk_level: Mapped[str | None] = mapped_column(String(16))  # of the next inspection
    quality_probability: Mapped[float | None] = mapped_column(Float)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index("ix_order_features_supplier_open", "supplier_id", "closed_at"),
        Index("ix_order_features_open_assessed", "closed_at", "assessed_on"),
    )


class InspectionLogRow(Base):
    """One inspection quality reported (lot inspection or inline check), in the columns of the
    inspections history (``training/inspections.py``): the quality model's record."""

    __tablename__ = "inspection_log"

    inspection_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    supplier_id: Mapped[str | None] = mapped_column(String(64))
    inspection_stage: Mapped[str] = mapped_column(String(128))
    inspected_on: Mapped[date] = mapped_column(Date)
    sample_size: Mapped[int] = mapped_column(BigInteger)
    critical: Mapped[int] = mapped_column(BigInteger)
    major: Mapped[int] = mapped_column(BigInteger)
    minor: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_inspection_log_supplier_day", "supplier_id", "inspected_on"),)


class SupplierOutcomeRow(Base):
    """How a supplier's finished order ended (``OrderOutcome``), for its track record."""

    __tablename__ = "supplier_outcomes"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(String(64))
    ended_on: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean)
    delay_days: Mapped[float] = mapped_column(Float)
    mean_stage_slip: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_supplier_outcomes_supplier_ended", "supplier_id", "ended_on"),)


class SupplierCapacityWeekRow(Base):
    """Production's latest word on one supplier-week and capacity bucket
    (``production.capacity_overloaded`` / ``capacity_recovered``): the load feature's source."""

    __tablename__ = "supplier_capacity_weeks"

    supplier_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)
    utilisation_pct: Mapped[float] = mapped_column(Float)
    overloaded: Mapped[bool] = mapped_column(Boolean)


class RiskAssessmentRow(Base):
    """Every assessment of an order (``alerted`` when its level changed and an alert went out)."""

    __tablename__ = "risk_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    as_of: Mapped[date] = mapped_column(Date)
    p_late: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(16))
    previous_level: Mapped[str | None] = mapped_column(String(16))
    expected_delay_days: Mapped[float] = mapped_column(Float)
    delay_p10_days: Mapped[float | None] = mapped_column(Float)
    delay_p90_days: Mapped[float | None] = mapped_column(Float)
    completion_earliest: Mapped[date | None] = mapped_column(Date)
    completion_latest: Mapped[date | None] = mapped_column(Date)
    model_version: Mapped[str] = mapped_column(String(32))
    baseline: Mapped[bool] = mapped_column(Boolean)
    alerted: Mapped[bool] = mapped_column(Boolean)
    drivers: Mapped[list[str]] = mapped_column(JSON)
    actions: Mapped[list[str]] = mapped_column(JSON)

    __table_args__ = (Index("ix_risk_history_order_at", "order_id", "at"),)


class LiveSampleRow(Base):
    """What the worker scored: an order's features and scores, once per order and day (drift)."""

    __tablename__ = "live_samples"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    model_version: Mapped[str] = mapped_column(String(32))
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    p_late: Mapped[float] = mapped_column(Float)
    delay_p50_days: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_live_samples_as_of", "as_of"),)


# last, so the metadata lists this module's tables first, as it always has
from looptrace_predictions.analytics import tables as _analytics_tables  # noqa: E402,F401 - same metadata
