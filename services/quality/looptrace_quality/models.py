"""Tables of the ``quality`` schema."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from looptrace_shared.archive import completions_table
from looptrace_shared.columns import Created, Key, Label, Moment, Name, Serial, belongs_to
from looptrace_shared.db import plumbing_tables, service_metadata

SCHEMA = "quality"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


plumbing = plumbing_tables(Base.metadata)


class OrderLotRow(Base):
    """The facts of an order that quality needs (from production.stages_initialized)."""

    __tablename__ = "order_lots"

    order_id: Mapped[Key] = mapped_column(primary_key=True)
    order_number: Mapped[Key] = mapped_column(index=True)
    supplier_id: Mapped[Key] = mapped_column(index=True)
    buyer_id: Mapped[Key | None] = mapped_column(index=True)
    product_category: Mapped[Label | None]
    lot_size: Mapped[int | None] = mapped_column(Integer)
    qc_stages: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[Created]


class InspectionRow(Base):
    __tablename__ = "inspections"

    id: Mapped[Key] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("quality.order_lots.order_id"), index=True)
    supplier_id: Mapped[Key] = mapped_column(index=True)
    stage_number: Mapped[int | None] = mapped_column(Integer)
    stage_name: Mapped[Label | None]
    round: Mapped[int] = mapped_column(Integer, default=1)
    reinspection_of: Mapped[Key | None]
    lot_size: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16))
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    disposition: Mapped[str | None] = mapped_column(String(32))
    sample_inspected: Mapped[int | None] = mapped_column(Integer)
    defects_by_class: Mapped[dict[str, int] | None] = mapped_column(JSON)
    dhu: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    summary: Mapped[str | None] = mapped_column(Text)
    inspector: Mapped[Name | None]
    notes: Mapped[str | None] = mapped_column(Text)
    photo_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    concession_reason: Mapped[str | None] = mapped_column(Text)
    concession_by: Mapped[Name | None]
    scheduled_at: Mapped[Created]
    decided_at: Mapped[Moment | None]

    __table_args__ = (
        Index("uq_inspections_order_stage_round", "order_id", "stage_number", "round", unique=True),
        Index("ix_inspections_supplier_decided", "supplier_id", "decided_at"),
        Index("ix_inspections_order_booked", "order_id", "scheduled_at", "id"),
        Index("ix_inspections_supplier_booked", "supplier_id", "scheduled_at", "id"),
    )


class DefectRow(Base):
    __tablename__ = "inspection_defects"

    id: Mapped[Serial]
    inspection_id: Mapped[str] = belongs_to("quality.inspections.id")
    defect_class: Mapped[str] = mapped_column(String(16))
    defect_type: Mapped[str | None] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)


class SupplierQualityRow(Base):
    """A supplier's switching-rule state (``SupplierSeverity.to_dict()``)."""

    __tablename__ = "supplier_quality"

    supplier_id: Mapped[Key] = mapped_column(primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[Created] = mapped_column(onupdate=func.now())


class AqlOverrideRow(Base):
    """AQLs and level a buyer (for all its orders) or one order sets (``AqlChoice.to_dict()``)."""

    __tablename__ = "aql_overrides"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # buyer | order
    owner_id: Mapped[Key] = mapped_column(primary_key=True)
    critical: Mapped[str | None] = mapped_column(String(8))
    major: Mapped[str | None] = mapped_column(String(8))
    minor: Mapped[str | None] = mapped_column(String(8))
    level: Mapped[str | None] = mapped_column(String(8))
    updated_by: Mapped[Name]
    updated_at: Mapped[Created] = mapped_column(onupdate=func.now())


class InlineCheckRow(Base):
    """One inline (in-process) check at a production stage, and its DHU."""

    __tablename__ = "inline_checks"

    id: Mapped[Key] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("quality.order_lots.order_id"), index=True)
    supplier_id: Mapped[Key]
    stage: Mapped[Label]
    units_checked: Mapped[int] = mapped_column(Integer)
    defects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    defects_by_class: Mapped[dict[str, int]] = mapped_column(JSON)
    defects_found: Mapped[int] = mapped_column(Integer)
    dhu: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    inspector: Mapped[Name]
    notes: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[Moment]

    __table_args__ = (Index("ix_inline_checks_supplier_checked", "supplier_id", "checked_at"),)


class PhotoScreeningRow(Base):
    """A stage photo's advisory pre-screening (from production.photo_stored): the score and
    flagged tiles, or why it could not be screened; the overlay PNG and the tile features
    (float32, rows * cols x feature_count) that labels train on."""

    __tablename__ = "photo_screenings"

    photo_id: Mapped[Key] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("quality.order_lots.order_id"), index=True)
    stage_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # screened | unscreenable
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    rows: Mapped[int | None] = mapped_column(Integer)
    cols: Mapped[int | None] = mapped_column(Integer)
    flagged: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    model: Mapped[Label]
    overlay: Mapped[bytes | None] = mapped_column(LargeBinary)
    features: Mapped[bytes | None] = mapped_column(LargeBinary)
    feature_count: Mapped[int | None] = mapped_column(Integer)
    screened_at: Mapped[Moment]


class ScreeningLabelRow(Base):
    """A person's label of a screened photo (tile -1) or one of its tiles: a defect kind or
    ``none``. A new label of the same photo/tile replaces the old one."""

    __tablename__ = "screening_labels"

    photo_id: Mapped[str] = mapped_column(
        ForeignKey("quality.photo_screenings.photo_id"), primary_key=True
    )
    tile: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    labelled_by: Mapped[Name]
    labelled_at: Mapped[Created]


# when orders said the order completed: its records go to cold storage after retention
order_completions = completions_table(Base.metadata)
