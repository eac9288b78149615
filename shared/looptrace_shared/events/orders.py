"""Order events: upstream commands on orders.inbound.v1, facts on orders.events.v1."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field, model_validator

from looptrace_shared.events.bounds import (
    LIST_MAX,
    Code,
    Day,
    Email,
    Id,
    Moment,
    Money,
    Name,
    Note,
    Quantity,
)
from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import ORDERS_EVENTS, ORDERS_INBOUND


class Party(Payload):
    id: Id
    name: Name
    email: Email | None = Field(default=None, max_length=320)
    company: Name | None = None


# ---- inbound (upstream systems) -------------------------------------------------


@event("OrderPlaced", ORDERS_INBOUND)
class OrderPlaced(Payload):
    order_id: Id = Field(description="the upstream system's order id (the key)")
    order_number: Id
    buyer: Party
    product_type: Code
    product_category: Code = Field(examples=["knitwear", "cut-and-sew"])
    style: Name | None = None
    quantity: Quantity
    currency: str = Field(min_length=3, max_length=3, examples=["USD", "EUR"])
    unit_price: Money
    supplier_cost: Money | None = Field(
        default=None, description="admins and upstream systems only: a buyer may not set it"
    )
    target_date: Day
    expected_delivery_date: Day | None = None
    has_print: bool = True
    quote_id: Id | None = None
    notes: Note | None = None


@event("QuoteRequested", ORDERS_INBOUND)
class QuoteRequested(Payload):
    quote_id: Id
    order_id: Id
    buyer: Party
    items: list[Name] = Field(default_factory=list, max_length=LIST_MAX)
    product_category: Code
    quantity: Quantity


@event("QuoteProvided", ORDERS_INBOUND)
class QuoteProvided(Payload):
    quote_id: Id
    order_id: Id
    currency: str = Field(min_length=3, max_length=3)
    price_offered: Money
    valid_until: Day


@event("QuoteAccepted", ORDERS_INBOUND)
class QuoteAccepted(Payload):
    quote_id: Id
    order_id: Id


@event("SupplierAssigned", ORDERS_INBOUND)
class SupplierAssigned(Payload):
    order_id: Id
    supplier: Party
    assigned_by: Name = "upstream"


@event("OrderShipped", ORDERS_INBOUND)
class OrderShipped(Payload):
    order_id: Id
    carrier: Code
    tracking_number: Code
    quantity_shipped: Quantity
    shipped_at: Moment
    estimated_arrival: Day | None = None
    # shipping details (see the README's "Shipping details"); each optional, checked when given
    mode: Code | None = Field(default=None, examples=["sea", "air", "road", "rail", "courier"])
    container_number: Code | None = Field(default=None, examples=["CSQU3054383"])
    seal_number: Code | None = None
    port_of_loading: Code | None = Field(default=None, examples=["CNSHA"])
    port_of_discharge: Code | None = Field(default=None, examples=["DEHAM"])
    estimated_departure: Day | None = None


@event("ShipmentUpdated", ORDERS_INBOUND)
class ShipmentUpdated(Payload):
    """A carrier's new departure or arrival date for a recorded shipment (by tracking number)."""

    order_id: Id
    tracking_number: Code
    estimated_departure: Day | None = None
    estimated_arrival: Day | None = Field(default=None, examples=["2027-03-01"])
    reason: Note | None = None

    @model_validator(mode="after")
    def _some_date(self) -> ShipmentUpdated:
        if self.estimated_departure is None and self.estimated_arrival is None:
            raise ValueError("give estimated_departure, estimated_arrival or both")
        return self


@event("OrderCancelled", ORDERS_INBOUND)
class OrderCancelled(Payload):
    order_id: Id
    reason: Note = Field(min_length=1)


@event("DeliveryConfirmed", ORDERS_INBOUND)
class DeliveryConfirmed(Payload):
    order_id: Id
    delivered_at: Moment


# ---- facts (orders.events.v1) ---------------------------------------------------


class OrderFacts(Payload):
    order_id: Id
    order_number: Id
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
    order_id: Id
    order_number: Id
    from_status: str | None
    to_status: str
    status: str
    production_status: str
    reason: str | None = None
    cause: str | None = None


@event("order.shipment_recorded", ORDERS_EVENTS)
class OrderShipmentRecorded(Payload):
    order_id: Id
    order_number: Id
    carrier: str
    tracking_number: str
    quantity_shipped: int
    total_shipped: int
    fully_shipped: bool
    shipment_id: int | None = None
    mode: str | None = None
    port_of_loading: str | None = None
    port_of_discharge: str | None = None
    estimated_departure: date | None = None
    estimated_arrival: date | None = None
    expected_delivery_date: date | None = Field(
        default=None, description="the order's projected delivery: the latest shipment ETA"
    )


@event("order.shipment_updated", ORDERS_EVENTS)
class OrderShipmentUpdated(Payload):
    """A shipment's ETD or ETA changed; ``expected_delivery_date`` is the order's re-projected
    delivery (the latest ETA of its shipments)."""

    order_id: Id
    order_number: Id
    shipment_id: int
    tracking_number: str
    estimated_departure: date | None
    estimated_arrival: date | None
    previous_departure: date | None
    previous_arrival: date | None
    expected_delivery_date: date | None
    previous_expected_delivery_date: date | None
    reason: str | None = None


@event("order.invoice_status_changed", ORDERS_EVENTS)
class OrderInvoiceStatusChanged(Payload):
    """An invoice was drafted (``previous_status`` null) or changed status. No amounts: those
    are read over HTTP by whom the access rules let see them."""

    order_id: Id
    order_number: Id
    invoice_number: str = Field(examples=["INV-2027-000001"])
    kind: str = Field(examples=["buyer", "supplier"])
    status: str = Field(examples=["draft", "issued", "paid", "void"])
    previous_status: str | None = None
