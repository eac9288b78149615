"""Use cases of the orders service. The same functions serve Kafka handlers and HTTP routes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from looptrace_orders import repository as repo
from looptrace_orders.context import OrdersContext, domain_rules
from looptrace_orders.domain import Money, Pricing, Shipment, check_shipments
from looptrace_orders.invoicing import draft_invoices
from looptrace_orders.models import OrderRow, QuoteRow, ShipmentRow
from looptrace_orders.shipments import reproject_delivery, shipment_row, shipping_details
from looptrace_orders.transitions import (
    apply_reaction,
    move,
    qc_gate_passed,
    reaction_steps,
    record_move,
    wire_facts,
)
from looptrace_orders.workflow import WorkflowStatus, check_shipment
from looptrace_shared.errors import Conflict, StaleVersion
from looptrace_shared.events import orders as ev
from looptrace_shared.events import suppliers as supplier_events

ORDER_CREATED: Final = ev.OrderCreated.EVENT_TYPE
SUPPLIER_ASSIGNED: Final = ev.OrderSupplierAssigned.EVENT_TYPE


class DuplicateOrderNumber(Conflict):
    rule = "duplicate_order_number"


class ReferenceInUse(Conflict):
    rule = "order_reference_in_use"


# ---- use cases ----------------------------------------------------------------------


def _same_order(order: OrderRow, cmd: ev.OrderPlaced) -> list[str]:
    pairs = {
        "order_id": (order.id, cmd.order_id),
        "order_number": (order.order_number, cmd.order_number),
        "buyer.id": (order.buyer_id, cmd.buyer.id),
        "quantity": (order.quantity, cmd.quantity),
        "currency": (order.currency, cmd.currency.upper()),
        "unit_price": (Decimal(order.unit_price), cmd.unit_price),
        "target_date": (order.target_date, cmd.target_date),
        "product_category": (order.product_category, cmd.product_category),
    }
    return [name for name, (a, b) in pairs.items() if a != b]


def _clash(using: list[OrderRow], cmd: ev.OrderPlaced, differing: list[str]) -> Conflict:
    """The buyer's own order: say what differs. Anyone else's: the same answer as for any
    taken reference, with nothing of the other order in it."""
    if len(using) == 1 and using[0].buyer_id == cmd.buyer.id and using[0].id == cmd.order_id:
        return DuplicateOrderNumber(
            f"order {cmd.order_id} already exists with different content "
            f"(differs in: {', '.join(differing)}); use a new order id and number, or update "
            "the order"
        )
    return ReferenceInUse(
        f"order id {cmd.order_id!r} or order number {cmd.order_number!r} is already in use "
        "(order ids and order numbers share one namespace); choose another"
    )


async def place_order(ctx: OrdersContext, cmd: ev.OrderPlaced) -> OrderRow:
    using = await ctx.using([cmd.order_id, cmd.order_number])
    if using:
        differing = _same_order(using[0], cmd) if len(using) == 1 else ["order_id"]
        if not differing:
            return using[0]  # the same order again: nothing to do
        raise _clash(using, cmd, differing)
    _check_new_order(ctx, cmd)
    order = ctx.new_order(_new_order(cmd))
    record_move(ctx, order, None, WorkflowStatus.PLACED, "firm order placed")
    ctx.emit_wire(order.id, ORDER_CREATED, created(order))
    return order


def created(order: OrderRow) -> dict[str, Any]:
    """``order.created``'s data, as its contract ``ev.OrderCreated`` dumps it."""
    return {
        **wire_facts(order),
        "workflow_status": order.workflow_status,
        "currency": order.currency,
        "unit_price": str(order.unit_price),
    }


def _check_new_order(ctx: OrdersContext, cmd: ev.OrderPlaced) -> None:
    """The target date lies in the window and the prices are amounts in the currency."""
    with domain_rules():
        ctx.target_window.check(cmd.target_date, datetime.now(UTC).date())
        Pricing(
            Money.of(cmd.unit_price, cmd.currency),
            cmd.quantity,
            None if cmd.supplier_cost is None else Money.of(cmd.supplier_cost, cmd.currency),
        )


def _new_order(cmd: ev.OrderPlaced) -> dict[str, Any]:
    return {
        "id": cmd.order_id,
        "order_number": cmd.order_number,
        "buyer_id": cmd.buyer.id,
        "buyer_name": cmd.buyer.name,
        "buyer_email": cmd.buyer.email,
        "buyer_company": cmd.buyer.company,
        "product_type": cmd.product_type,
        "product_category": cmd.product_category,
        "style": cmd.style,
        "quantity": cmd.quantity,
        "currency": cmd.currency.upper(),
        "unit_price": cmd.unit_price,
        "supplier_unit_cost": cmd.supplier_cost,
        "target_date": cmd.target_date,
        "expected_delivery_date": cmd.expected_delivery_date,
        "has_print": cmd.has_print,
        "quote_id": cmd.quote_id,
        "notes": cmd.notes,
        "workflow_status": WorkflowStatus.PLACED.value,
    }


async def assign_supplier(
    ctx: OrdersContext, order_id: str, supplier: ev.Party, assigned_by: str
) -> OrderRow:
    order = await ctx.get(order_id)
    if order.supplier_id == supplier.id and order.workflow_status != WorkflowStatus.QUOTE_ACCEPTED:
        return order  # the same assignment again
    reassigned = order.supplier_id is not None
    move(
        ctx,
        order,
        WorkflowStatus.ASSIGNED_TO_SUPPLIER,
        f"supplier {supplier.id} assigned by {assigned_by}",
    )
    order.supplier_id, order.supplier_name = supplier.id, supplier.name
    order.supplier_email = supplier.email
    order.assigned_at, order.assigned_by = datetime.now(UTC), assigned_by
    assigned = {
        **wire_facts(order),
        "supplier": supplier.model_dump(mode="json"),
        "assigned_by": assigned_by,
        "reassigned": reassigned,
    }
    ctx.emit_wire(order.id, SUPPLIER_ASSIGNED, assigned)
    return order


async def record_shipment(ctx: OrdersContext, cmd: ev.OrderShipped) -> OrderRow:
    order = await ctx.get(cmd.order_id)
    details = shipping_details(cmd)
    total = await _shipped_total_after(ctx, order, cmd)
    full = total >= order.quantity
    if full:
        reaction_steps(order, "OrderShipped")  # refuse before anything is written
    earlier = await repo.shipments(ctx.uow.session, order.id)
    row = shipment_row(order, cmd, details)
    ctx.uow.session.add(row)
    reproject_delivery(order, [*earlier, row])
    await ctx.flush()  # the shipment's id, for its event and its invoices
    ctx.emit(order.id, _shipment_recorded(order, row, total, full))
    await draft_invoices(ctx, order, row)
    if full:
        apply_reaction(
            ctx, order, "OrderShipped", f"{total} of {order.quantity} shipped via {cmd.carrier}"
        )
    return order


def _shipment_recorded(
    order: OrderRow, row: ShipmentRow, total: int, full: bool
) -> ev.OrderShipmentRecorded:
    return ev.OrderShipmentRecorded(
        order_id=order.id,
        order_number=order.order_number,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        quantity_shipped=row.quantity,
        total_shipped=total,
        fully_shipped=full,
        shipment_id=row.id,
        mode=row.mode,
        port_of_loading=row.port_of_loading,
        port_of_discharge=row.port_of_discharge,
        estimated_departure=row.estimated_departure,
        estimated_arrival=row.estimated_arrival,
        expected_delivery_date=order.expected_delivery_date,
    )


async def _shipped_total_after(ctx: OrdersContext, order: OrderRow, cmd: ev.OrderShipped) -> int:
    """The quantity shipped once ``cmd`` is recorded, refused (before anything is written)
    unless the goods exist, passed the QC gate and do not exceed the order."""
    with domain_rules():
        check_shipment(
            WorkflowStatus(order.workflow_status), qc_gate_passed(order), order.order_number
        )
    already = await repo.shipped_total(ctx.uow.session, order.id)
    shipments = (
        [Shipment(already), Shipment(cmd.quantity_shipped)]
        if already
        else [Shipment(cmd.quantity_shipped)]
    )
    with domain_rules():
        return check_shipments(order.quantity, shipments)


async def confirm_delivery(ctx: OrdersContext, order_id: str, delivered_at: datetime) -> OrderRow:
    order = await ctx.get(order_id)
    apply_reaction(ctx, order, "DeliveryConfirmed", "delivery confirmed")
    order.actual_delivery_date = delivered_at.date()
    return order


async def cancel(ctx: OrdersContext, order_id: str, reason: str) -> OrderRow:
    order = await ctx.get(order_id)
    apply_reaction(ctx, order, "OrderCancelled", reason)
    return order


async def request_quote(ctx: OrdersContext, cmd: ev.QuoteRequested) -> None:
    if await ctx.lookup(cmd.order_id):
        return
    order = ctx.new_order(
        {
            "id": cmd.order_id,
            "order_number": cmd.order_id,
            "buyer_id": cmd.buyer.id,
            "buyer_name": cmd.buyer.name,
            "buyer_email": cmd.buyer.email,
            "buyer_company": cmd.buyer.company,
            "product_type": cmd.product_category,
            "product_category": cmd.product_category,
            "quantity": cmd.quantity,
            "currency": "USD",
            "unit_price": Decimal(0),
            "target_date": datetime.now(UTC).date(),
            "workflow_status": WorkflowStatus.QUOTE_REQUESTED.value,
            "quote_id": cmd.quote_id,
        }
    )
    ctx.uow.session.add(
        QuoteRow(
            id=cmd.quote_id,
            order_id=cmd.order_id,
            items=cmd.items,
            quantity=cmd.quantity,
            status="requested",
        )
    )
    record_move(ctx, order, None, WorkflowStatus.QUOTE_REQUESTED, "quote requested")


async def provide_quote(ctx: OrdersContext, cmd: ev.QuoteProvided) -> None:
    order = await ctx.get(cmd.order_id)
    with domain_rules():
        Money.of(cmd.price_offered, cmd.currency)
    move(ctx, order, WorkflowStatus.QUOTE_PROVIDED, f"quote {cmd.quote_id} provided")
    order.currency, order.unit_price = cmd.currency.upper(), cmd.price_offered
    quote = await ctx.uow.session.get(QuoteRow, cmd.quote_id)
    if quote:
        quote.currency, quote.price_offered, quote.valid_until = (
            cmd.currency.upper(),
            cmd.price_offered,
            cmd.valid_until,
        )
        quote.status = "provided"


async def accept_quote(ctx: OrdersContext, cmd: ev.QuoteAccepted) -> None:
    order = await ctx.get(cmd.order_id)
    move(ctx, order, WorkflowStatus.QUOTE_ACCEPTED, f"quote {cmd.quote_id} accepted")
    quote = await ctx.uow.session.get(QuoteRow, cmd.quote_id)
    if quote:
        quote.status = "accepted"


def check_version(order: OrderRow, if_match: int | None) -> None:
    if if_match is not None and order.version != if_match:
        raise StaleVersion(
            f"order {order.order_number} is at version {order.version}, not {if_match}; "
            "reload it and retry with the current ETag"
        )


async def record_assignment_warning(
    ctx: OrdersContext, fact: supplier_events.AssignmentWarned
) -> None:
    """Production warned of the order's assignment: a history entry that keeps the status
    (from = to) and names the warnings; notifications tells the admin who assigned."""
    order = await ctx.get(fact.order_id)
    reason = f"assignment to {fact.supplier_id} warned: " + "; ".join(fact.warnings)
    ctx.add_history(order, order.workflow_status, order.workflow_status, reason)
