"""Order events: upstream commands on orders.inbound.v1, facts on orders.events.v1."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import EmailStr, Field

from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import ORDERS_EVENTS, ORDERS_INBOUND


class Party(Payload):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    email: EmailStr | None = None
    company: str | None = None


# ---- inbound (upstream systems) -------------------------------------------------


@event("OrderPlaced", ORDERS_INBOUND)
class OrderPlaced(Payload):
    order_id: str = Field(min_length=1, description="the upstream system's order id (the key)")
    order_number: str = Field(min_length=1)
    buyer: Party
    product_type: str = Field(min_length=1)
    product_category: str = Field(min_length=1, examples=["knitwear", "cut-and-sew"])
    style: str | None = None
    quantity: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3, examples=["USD", "EUR"])
    unit_price: Decimal = Field(ge=0)
    supplier_cost: Decimal | None = Field(default=None, ge=0)
    target_date: date
    expected_delivery_date: date | None = None
    has_print: bool = True
    quote_id: str | None = None
    notes: str | None = None


@event("QuoteRequested", ORDERS_INBOUND)
class QuoteRequested(Payload):
    quote_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    buyer: Party
    items: list[str] = Field(default_factory=list)
    product_category: str = Field(min_length=1)
    quantity: int = Field(gt=0)


@event("QuoteProvided", ORDERS_INBOUND)
class QuoteProvided(Payload):
    quote_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)
    price_offered: Decimal = Field(ge=0)
    valid_until: date


@event("QuoteAccepted", ORDERS_INBOUND)
class QuoteAccepted(Payload):
    quote_id: str = Field(min_length=1)
    order_id: str = Field(min_length=1)


@event("SupplierAssigned", ORDERS_INBOUND)
class SupplierAssigned(Payload):
    order_id: str = Field(min_length=1)
    supplier: Party
    assigned_by: str = "upstream"


@event("OrderShipped", ORDERS_INBOUND)
class OrderShipped(Payload):
    order_id: str = Field(min_length=1)
    carrier: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1)
    quantity_shipped: int = Field(gt=0)
    shipped_at: datetime
    estimated_arrival: date | None = None


@event("OrderCancelled", ORDERS_INBOUND)
class OrderCancelled(Payload):
    order_id: str = Field(min_length=1)
    reason: str = Field(min_length=1)


@event("DeliveryConfirmed", ORDERS_INBOUND)
class DeliveryConfirmed(Payload):
    order_id: str = Field(min_length=1)
    delivered_at: datetime


# ---- facts (orders.events.v1) ---------------------------------------------------


class OrderFacts(Payload):
    order_id: str
    order_number: str
    buyer: Party
    product_category: str
    quantity: int
    target_date: date
    has_print: bool = True


@event("order.created", ORDERS_EVENTS)
class OrderCreated(OrderFacts):
    workflow_status: str
    currency: str
    unit_price: Decimal


@event("order.supplier_assigned", ORDERS_EVENTS)
class OrderSupplierAssigned(OrderFacts):
    supplier: Party
    assigned_by: str
    reassigned: bool = False


@event("order.status_changed", ORDERS_EVENTS)
class OrderStatusChanged(Payload):
    order_id: str
    order_number: str
    from_status: str | None
    to_status: str
    status: str
    production_status: str
    reason: str | None = None
    cause: str | None = None


@event("order.shipment_recorded", ORDERS_EVENTS)
class OrderShipmentRecorded(Payload):
    order_id: str
    order_number: str
    carrier: str
    tracking_number: str
    quantity_shipped: int
    total_shipped: int
    fully_shipped: bool
