"""Tables of the ``production`` schema."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from looptrace_shared.archive import completions_table
from looptrace_shared.columns import Created, Email, Key, Label, Moment, Name, Serial
from looptrace_shared.db import plumbing_tables, service_metadata

SCHEMA = "production"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


plumbing = plumbing_tables(Base.metadata)


class SupplierOrderRow(Base):
    """One order as its supplier makes it: the order facts and its time-and-action plan."""

    __tablename__ = "supplier_orders"

    order_id: Mapped[Key] = mapped_column(primary_key=True)
    order_number: Mapped[Key] = mapped_column(index=True)
    supplier_id: Mapped[Key] = mapped_column(index=True)
    supplier_name: Mapped[Name | None]
    buyer_id: Mapped[Key] = mapped_column(index=True)
    product_category: Mapped[Label]
    quantity: Mapped[int] = mapped_column(Integer)
    target_date: Mapped[date] = mapped_column(Date, index=True)
    has_print: Mapped[bool] = mapped_column(default=True)
    # the plan's JSON (plan_codec) as text: rewritten whole on every report and read whole by
    # the service, so PostgreSQL need not parse it (json) or convert it (jsonb); ``plan::json``
    plan: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    completed_at: Mapped[Moment | None]
    closed_at: Mapped[Moment | None]
    closed_as: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[Created]
    updated_at: Mapped[Created]

    __table_args__ = (
        Index("ix_supplier_orders_open", "order_id", postgresql_where="completed_at IS NULL"),
    )


class ProgressLogRow(Base):
    """Every accepted progress report, once per supplier message id."""

    __tablename__ = "progress_log"

    id: Mapped[Serial]
    message_id: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[Key]
    stage_number: Mapped[int] = mapped_column(Integer)
    stage_name: Mapped[Label]
    percentage: Mapped[float] = mapped_column(Float)
    reported_at: Mapped[Moment]
    notes: Mapped[str | None] = mapped_column(Text)
    photo_urls: Mapped[list[str]] = mapped_column(JSONB, default=list)
    correction: Mapped[bool] = mapped_column(default=False)
    delay_reason: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[Created]

    # a supplier's message id is unique per order (two factories may both number from 1)
    __table_args__ = (UniqueConstraint("order_id", "message_id"),)


class PhotoRow(Base):
    """An uploaded stage photo (checked by content) and its thumbnail, stored under the photo dir."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[Key] = mapped_column(index=True)
    stage_number: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))
    thumbnail_path: Mapped[str] = mapped_column(String(500))
    original_name: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[Key]
    uploaded_at: Mapped[Created]
    # quality's advisory pre-screening of the photo (from quality.photo_screened), for the timeline
    screening_status: Mapped[str | None] = mapped_column(String(16))
    screening_reason: Mapped[str | None] = mapped_column(String(32))
    screening_score: Mapped[float | None] = mapped_column(Float)
    screening_flagged: Mapped[int | None] = mapped_column(Integer)


class StageNoteRow(Base):
    __tablename__ = "stage_notes"

    id: Mapped[Serial]
    order_id: Mapped[Key] = mapped_column(index=True)
    stage_number: Mapped[int] = mapped_column(Integer)
    author: Mapped[Key]
    author_role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Created]


class SupplierCalendarRow(Base):
    """A factory's working days: weekend weekdays (0 = Monday … 6 = Sunday) and holidays.

    Read when an order is planned; a plan keeps a copy of the calendar it was planned with.
    """

    __tablename__ = "supplier_calendars"

    supplier_id: Mapped[Key] = mapped_column(primary_key=True)
    weekend: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger))
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[Created]


class DocumentRow(Base):
    """One version of an order document (``documents.py``): versions share ``document_id``."""

    __tablename__ = "order_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # this version's id
    document_id: Mapped[str] = mapped_column(String(36), index=True)
    order_id: Mapped[Key] = mapped_column(index=True)
    doc_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[Name]
    version: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[Label]
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[Key]
    path: Mapped[str] = mapped_column(String(500))
    original_name: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[Email]
    uploaded_role: Mapped[str] = mapped_column(String(16))
    uploaded_at: Mapped[Created]

    __table_args__ = (UniqueConstraint("document_id", "version"),)


class SupplierRow(Base):
    """A supplier as production knows it: master data and capabilities (``SupplierProfile``)."""

    __tablename__ = "suppliers"

    supplier_id: Mapped[Key] = mapped_column(primary_key=True)
    name: Mapped[Name]
    country: Mapped[Key | None]
    status: Mapped[str] = mapped_column(String(16), default="active")
    # contacts, categories, processes, certifications as the profile's JSON
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[Created]


class SupplierCapacityRow(Base):
    """Units per week a supplier can make in one bucket (a category or a process), from a date."""

    __tablename__ = "supplier_capacity"

    id: Mapped[Serial]
    supplier_id: Mapped[Key] = mapped_column(index=True)
    bucket: Mapped[str] = mapped_column(String(120))
    units_per_week: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    reported_at: Mapped[Created]

    __table_args__ = (UniqueConstraint("supplier_id", "bucket", "effective_from"),)


class OrderClosureRow(Base):
    """An order that left the workflow (cancelled or completed), kept whether or not it was
    planned yet: an assignment that arrives after it plans the order closed."""

    __tablename__ = "order_closures"

    order_id: Mapped[Key] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[Moment]
    reason: Mapped[str | None] = mapped_column(Text)


class LoadDeltaRow(Base):
    """A change of planned load, written with the plan change; folded into ``supplier_load``."""

    __tablename__ = "load_deltas"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    supplier_id: Mapped[Key]
    week: Mapped[date] = mapped_column(Date)
    bucket: Mapped[str] = mapped_column(String(120))
    units: Mapped[float] = mapped_column(Float)


class SupplierLoadRow(Base):
    """The planned units of one supplier in one ISO week (its Monday) and bucket."""

    __tablename__ = "supplier_load"

    supplier_id: Mapped[Key] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    units: Mapped[float] = mapped_column(Float, default=0)
    overloaded: Mapped[bool] = mapped_column(default=False)


class CapacityUtilizationLogRow(Base):
    """The seeds' CAPACITY_UTILIZATION_LOG: one snapshot per supplier, week and bucket."""

    __tablename__ = "capacity_utilization_log"

    id: Mapped[Serial]
    supplier_id: Mapped[Key]
    week: Mapped[date] = mapped_column(Date)
    bucket: Mapped[str] = mapped_column(String(120))
    load_units: Mapped[float] = mapped_column(Float)
    capacity_units: Mapped[int | None] = mapped_column(Integer)
    utilisation_pct: Mapped[float | None] = mapped_column(Float)
    snapshot_at: Mapped[Created]

    __table_args__ = (UniqueConstraint("supplier_id", "week", "bucket"),)


class AssignmentWarningRow(Base):
    """What an assignment was warned of (``production.assignment_warned``), kept with it."""

    __tablename__ = "assignment_warnings"

    id: Mapped[Serial]
    order_id: Mapped[Key] = mapped_column(index=True)
    supplier_id: Mapped[Key]
    assigned_by: Mapped[Email]
    warnings: Mapped[list[str]] = mapped_column(JSONB)
    created_at: Mapped[Created]


# when orders said the order completed: its records go to cold storage after retention
order_completions = completions_table(Base.metadata)
