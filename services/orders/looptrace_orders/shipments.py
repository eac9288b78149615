"""Use cases of shipping details: a shipment's details checked, its ETD/ETA updated, and the
order's delivery re-projected from its shipments' arrival dates (HTTP and Kafka alike)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from looptrace_orders import repository as repo
from looptrace_orders.archive import check_live
from looptrace_orders.context import OrdersContext, domain_rules
from looptrace_orders.models import OrderRow, ShipmentRow, ShipmentUpdateRow
from looptrace_orders.shipping import ShippingDetails, projected_delivery, shipping_mode
from looptrace_shared.errors import NotFound
from looptrace_shared.events import orders as ev


def shipping_details(cmd: ev.OrderShipped) -> ShippingDetails:
    """The shipment's details, checked (a 422 problem or a dead letter naming the rule)."""
    with domain_rules():
        return ShippingDetails(
            mode=shipping_mode(cmd.mode),
            container_number=cmd.container_number,
            seal_number=cmd.seal_number,
            port_of_loading=cmd.port_of_loading,
            port_of_discharge=cmd.port_of_discharge,
            etd=cmd.estimated_departure,
            eta=cmd.estimated_arrival,
        )


def shipment_row(order: OrderRow, cmd: ev.OrderShipped, details: ShippingDetails) -> ShipmentRow:
    return ShipmentRow(
        order_id=order.id,
        carrier=cmd.carrier,
        tracking_number=cmd.tracking_number,
        quantity=cmd.quantity_shipped,
        shipped_at=cmd.shipped_at,
        estimated_arrival=details.eta,
        mode=details.mode and details.mode.value,
        container_number=details.container_number,
        seal_number=details.seal_number,
        port_of_loading=details.port_of_loading,
        port_of_discharge=details.port_of_discharge,
        estimated_departure=details.etd,
    )


def reproject_delivery(order: OrderRow, shipments: list[ShipmentRow]) -> date | None:
    """Set the order's expected delivery to its shipments' latest ETA (kept while none has
    one); return the previous expected delivery."""
    previous = order.expected_delivery_date
    projected = projected_delivery(s.estimated_arrival for s in shipments)
    if projected is not None:
        order.expected_delivery_date = projected
    return previous


async def find_shipment(ctx: OrdersContext, order: OrderRow, ref: int | str) -> ShipmentRow:
    """The order's shipment to change, by its id (int) or its tracking number (str)."""
    check_live(order)
    for s in await repo.shipments(ctx.uow.session, order.id):
        if (s.id if isinstance(ref, int) else s.tracking_number) == ref:
            return s
    raise NotFound(f"order {order.order_number} has no shipment {ref!r}")


async def update_shipment(ctx: OrdersContext, cmd: ev.ShipmentUpdated, ref: int | str) -> None:
    """A new ETD and/or ETA (a field left out keeps its value); the order's delivery is
    re-projected and the change announced. The same dates again change nothing."""
    order = await ctx.get(cmd.order_id)
    shipment = await find_shipment(ctx, order, ref)
    etd = cmd.estimated_departure or shipment.estimated_departure
    eta = cmd.estimated_arrival or shipment.estimated_arrival
    with domain_rules():
        ShippingDetails.check_dates(etd, eta)
    old_etd, old_eta = shipment.estimated_departure, shipment.estimated_arrival
    if (etd, eta) == (old_etd, old_eta):
        return
    shipment.estimated_departure, shipment.estimated_arrival = etd, eta
    _record_update(ctx, shipment, cmd.reason, old_etd, old_eta)
    all_shipments = await repo.shipments(ctx.uow.session, order.id)
    previous = reproject_delivery(order, all_shipments)
    ctx.emit(
        order.id,
        ev.OrderShipmentUpdated(
            order_id=order.id,
            order_number=order.order_number,
            shipment_id=shipment.id,
            tracking_number=shipment.tracking_number,
            estimated_departure=etd,
            estimated_arrival=eta,
            previous_departure=old_etd,
            previous_arrival=old_eta,
            expected_delivery_date=order.expected_delivery_date,
            previous_expected_delivery_date=previous,
            reason=cmd.reason,
        ),
    )


def _record_update(
    ctx: OrdersContext,
    shipment: ShipmentRow,
    reason: str | None,
    old_etd: date | None,
    old_eta: date | None,
) -> None:
    ctx.uow.session.add(
        ShipmentUpdateRow(
            shipment_id=shipment.id,
            order_id=shipment.order_id,
            estimated_departure=shipment.estimated_departure,
            estimated_arrival=shipment.estimated_arrival,
            previous_departure=old_etd,
            previous_arrival=old_eta,
            reason=reason,
            cause=ctx.cause_name[:200],
            at=datetime.now(UTC),
        )
    )
