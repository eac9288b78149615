"""Tables of the ``orders`` schema."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from looptrace_shared.db import plumbing_tables, service_metadata

SCHEMA = "orders"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


plumbing = plumbing_tables(Base.metadata)
MONEY = Numeric(14, 4)


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64), unique=True)
    buyer_id: Mapped[str] = mapped_column(String(64), index=True)
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_email: Mapped[str | None] = mapped_column(String(320))
    buyer_company: Mapped[str | None] = mapped_column(String(200))
    product_type: Mapped[str] = mapped_column(String(100))
    product_category: Mapped[str] = mapped_column(String(100))
    style: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    supplier_unit_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    target_date: Mapped[date] = mapped_column(Date, index=True)
    expected_delivery_date: Mapped[date | None] = mapped_column(Date)
    actual_delivery_date: Mapped[date | None] = mapped_column(Date)
    has_print: Mapped[bool] = mapped_column(default=True)
    supplier_id: Mapped[str | None] = mapped_column(String(64), index=True)
    supplier_name: Mapped[str | None] = mapped_column(String(200))
    supplier_email: Mapped[str | None] = mapped_column(String(320))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by: Mapped[str | None] = mapped_column(String(200))
    quote_id: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    workflow_status: Mapped[str] = mapped_column(String(32), index=True)
    # the inspections production counted when the QC gate passed; None while it is closed
    qc_passed_inspections: Mapped[list[str] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}
    __table_args__ = (
        Index("ix_orders_created_id", "created_at", "id"),
        Index("ix_orders_workflow_status_id", "workflow_status", "id"),  # retention's walk
    )


class StatusHistoryRow(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.orders.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    cause: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class ShipmentRow(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.orders.id", ondelete="CASCADE"), index=True
    )
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    shipped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    estimated_arrival: Mapped[date | None] = mapped_column(Date)
    mode: Mapped[str | None] = mapped_column(String(16))
    container_number: Mapped[str | None] = mapped_column(String(11))
    seal_number: Mapped[str | None] = mapped_column(String(100))
    port_of_loading: Mapped[str | None] = mapped_column(String(5))
    port_of_discharge: Mapped[str | None] = mapped_column(String(5))
    estimated_departure: Mapped[date | None] = mapped_column(Date)


class ShipmentUpdateRow(Base):
    """One change of a shipment's departure or arrival date (the shipment keeps the latest)."""

    __tablename__ = "shipment_updates"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("orders.shipments.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.orders.id", ondelete="CASCADE"), index=True
    )
    estimated_departure: Mapped[date | None] = mapped_column(Date)
    estimated_arrival: Mapped[date | None] = mapped_column(Date)
    previous_departure: Mapped[date | None] = mapped_column(Date)
    previous_arrival: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class QuoteRow(Base):
    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    quantity: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    price_offered: Mapped[Decimal | None] = mapped_column(MONEY)
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))


INVOICE_MONEY = Numeric(20, 4)  # a unit amount (Numeric(14, 4)) × up to 10 000 000 pieces


class InvoiceRow(Base):
    """One invoice of one shipment: the supplier's (cost) or the buyer's (price)."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.orders.id", ondelete="CASCADE"), index=True
    )
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("orders.shipments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    unit_amount: Mapped[Decimal] = mapped_column(MONEY)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(INVOICE_MONEY)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(Text)


class InvoiceSeriesRow(Base):
    """The last number given in one invoice series (locked while a number is taken: gapless)."""

    __tablename__ = "invoice_series"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
