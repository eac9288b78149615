"""Tables of the ``orders`` schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Date, Index, Integer, Numeric, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from looptrace_shared.columns import Created, Email, Key, Label, Moment, Name, Serial, belongs_to
from looptrace_shared.db import plumbing_tables, service_metadata

SCHEMA = "orders"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


plumbing = plumbing_tables(Base.metadata)
MONEY = Numeric(14, 4)


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[Key] = mapped_column(primary_key=True)
    order_number: Mapped[Key] = mapped_column(unique=True)
    buyer_id: Mapped[Key] = mapped_column(index=True)
    buyer_name: Mapped[Name]
    buyer_email: Mapped[Email | None]
    buyer_company: Mapped[Name | None]
    product_type: Mapped[Label]
    product_category: Mapped[Label]
    style: Mapped[Name | None]
    quantity: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    supplier_unit_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    target_date: Mapped[date] = mapped_column(Date, index=True)
    expected_delivery_date: Mapped[date | None] = mapped_column(Date)
    actual_delivery_date: Mapped[date | None] = mapped_column(Date)
    has_print: Mapped[bool] = mapped_column(default=True)
    supplier_id: Mapped[Key | None] = mapped_column(index=True)
    supplier_name: Mapped[Name | None]
    supplier_email: Mapped[Email | None]
    assigned_at: Mapped[Moment | None]
    assigned_by: Mapped[Name | None]
    quote_id: Mapped[Key | None]
    notes: Mapped[str | None] = mapped_column(Text)
    workflow_status: Mapped[str] = mapped_column(String(32), index=True)
    # the inspections production counted when the QC gate passed; None while it is closed
    qc_passed_inspections: Mapped[list[str] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[Created] = mapped_column(index=True)
    updated_at: Mapped[Created] = mapped_column(onupdate=func.now())

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}
    __table_args__ = (
        Index("ix_orders_created_id", "created_at", "id"),
        Index("ix_orders_workflow_status_id", "workflow_status", "id"),  # retention's walk
    )


class StatusHistoryRow(Base):
    __tablename__ = "status_history"

    id: Mapped[Serial]
    order_id: Mapped[str] = belongs_to("orders.orders.id")
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[Created]
    cause: Mapped[Name]
    reason: Mapped[str | None] = mapped_column(Text)


class ShipmentRow(Base):
    __tablename__ = "shipments"

    id: Mapped[Serial]
    order_id: Mapped[str] = belongs_to("orders.orders.id")
    carrier: Mapped[Label]
    tracking_number: Mapped[Label]
    quantity: Mapped[int] = mapped_column(Integer)
    shipped_at: Mapped[Moment]
    estimated_arrival: Mapped[date | None] = mapped_column(Date)
    mode: Mapped[str | None] = mapped_column(String(16))
    container_number: Mapped[str | None] = mapped_column(String(11))
    seal_number: Mapped[Label | None]
    port_of_loading: Mapped[str | None] = mapped_column(String(5))
    port_of_discharge: Mapped[str | None] = mapped_column(String(5))
    estimated_departure: Mapped[date | None] = mapped_column(Date)


class ShipmentUpdateRow(Base):
    """One change of a shipment's departure or arrival date (the shipment keeps the latest)."""

    __tablename__ = "shipment_updates"

    id: Mapped[Serial]
    shipment_id: Mapped[int] = belongs_to("orders.shipments.id")
    order_id: Mapped[str] = belongs_to("orders.orders.id")
    estimated_departure: Mapped[date | None] = mapped_column(Date)
    estimated_arrival: Mapped[date | None] = mapped_column(Date)
    previous_departure: Mapped[date | None] = mapped_column(Date)
    previous_arrival: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[Name]
    at: Mapped[Created]


class QuoteRow(Base):
    __tablename__ = "quotes"

    id: Mapped[Key] = mapped_column(primary_key=True)
    order_id: Mapped[Key] = mapped_column(index=True)
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

    id: Mapped[Serial]
    number: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[str] = belongs_to("orders.orders.id")
    shipment_id: Mapped[int] = belongs_to("orders.shipments.id")
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    unit_amount: Mapped[Decimal] = mapped_column(MONEY)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(INVOICE_MONEY)
    created_at: Mapped[Moment]
    issued_at: Mapped[Moment | None]
    paid_at: Mapped[Moment | None]
    voided_at: Mapped[Moment | None]
    void_reason: Mapped[str | None] = mapped_column(Text)


class InvoiceSeriesRow(Base):
    """The last number given in one invoice series (locked while a number is taken: gapless)."""

    __tablename__ = "invoice_series"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
