"""Kafka entrypoints of the orders service: the reaction table and the batch's preload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from looptrace_orders import qc_gate, shipments
from looptrace_orders import services as uc
from looptrace_orders.config import OrdersSettings
from looptrace_orders.context import OrdersContext
from looptrace_orders.transitions import apply_reaction
from looptrace_shared.events import orders as ev
from looptrace_shared.messaging.dispatch import ConsumerGroup, Outcomes, Reaction
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.runtime import Runtime
from looptrace_shared.topics import ORDERS_INBOUND, PRODUCTION_EVENTS, QUALITY_EVENTS


def with_payload(fn: Callable[[OrdersContext, Any], Awaitable[object]]) -> Reaction[OrdersContext]:
    """A use case that takes the message's validated payload."""

    async def reaction(ctx: OrdersContext, item: Incoming) -> None:
        await fn(ctx, item.data)

    return reaction


async def when_order_placed(ctx: OrdersContext, cmd: ev.OrderPlaced) -> None:
    await uc.place_order(ctx, cmd)


async def when_supplier_assigned(ctx: OrdersContext, cmd: ev.SupplierAssigned) -> None:
    await uc.assign_supplier(ctx, cmd.order_id, cmd.supplier, cmd.assigned_by)


async def when_order_shipped(ctx: OrdersContext, cmd: ev.OrderShipped) -> None:
    await uc.record_shipment(ctx, cmd)


async def when_shipment_updated(ctx: OrdersContext, cmd: ev.ShipmentUpdated) -> None:
    await shipments.update_shipment(ctx, cmd, cmd.tracking_number)


async def when_delivery_confirmed(ctx: OrdersContext, cmd: ev.DeliveryConfirmed) -> None:
    await uc.confirm_delivery(ctx, cmd.order_id, cmd.delivered_at)


async def when_order_cancelled(ctx: OrdersContext, cmd: ev.OrderCancelled) -> None:
    await uc.cancel(ctx, cmd.order_id, cmd.reason)


def react_as(cause: str) -> Reaction[OrdersContext]:
    """A production or quality fact moves the workflow as the domain's reaction table says."""

    async def reaction(ctx: OrdersContext, item: Incoming) -> None:
        order = await ctx.get(item.data.order_id)
        apply_reaction(ctx, order, cause, getattr(item.data, "summary", None))

    return reaction


async def when_stage_completed(ctx: OrdersContext, item: Incoming) -> None:
    if item.data.shipping:
        await qc_gate.ship_from_production(ctx, item.data)


async def when_plan_reforecast(ctx: OrdersContext, item: Incoming) -> None:
    if item.data.projected_completion <= item.data.target_date:
        await react_as("production.plan_back_on_track")(ctx, item)


REACTIONS: dict[str, Reaction[OrdersContext]] = {
    "OrderPlaced": with_payload(when_order_placed),
    "QuoteRequested": with_payload(uc.request_quote),
    "QuoteProvided": with_payload(uc.provide_quote),
    "QuoteAccepted": with_payload(uc.accept_quote),
    "SupplierAssigned": with_payload(when_supplier_assigned),
    "OrderShipped": with_payload(when_order_shipped),
    "ShipmentUpdated": with_payload(when_shipment_updated),
    "DeliveryConfirmed": with_payload(when_delivery_confirmed),
    "OrderCancelled": with_payload(when_order_cancelled),
    "production.stage_started": react_as("production.stage_started"),
    "production.stage_delayed": react_as("production.stage_delayed"),
    "production.stage_completed": when_stage_completed,
    "production.plan_reforecast": when_plan_reforecast,
    "production.quality_gate_passed": with_payload(qc_gate.open_the_gate),
    "production.assignment_warned": with_payload(uc.record_assignment_warning),
    "quality.inspection_scheduled": with_payload(qc_gate.hold_the_gate_for),
    "quality.inspection_failed": with_payload(qc_gate.close_the_gate_after),
}
# what creates an order: applied while later messages of that order wait for it
UNBLOCKS = frozenset({"OrderPlaced", "QuoteRequested"})


async def preload(ctx: OrdersContext, items: list[Incoming]) -> None:
    """Every order the batch names, by id (key or payload) or, for new ones, by number."""
    numbers = [i.data.order_number for i in items if isinstance(i.data, ev.OrderPlaced)]
    ids = [i.subject for i in items] + [getattr(i.data, "order_id", i.subject) for i in items]
    await ctx.preload(ids, numbers)


async def save(ctx: OrdersContext, items: list[Incoming], outcomes: Outcomes) -> None:
    """The batch's new orders in one INSERT, its changed ones in one UPDATE, its status
    history in one INSERT; then the session's rows (shipments, quotes, invoices)."""
    await ctx.flush()


def consumer_groups(rt: Runtime[OrdersSettings, None]) -> list[ConsumerGroup[OrdersContext]]:
    window = rt.settings.target_window
    return [
        ConsumerGroup(
            "orders",
            (ORDERS_INBOUND, PRODUCTION_EVENTS, QUALITY_EVENTS),
            REACTIONS,
            context=lambda uow: OrdersContext.for_batch(uow, window),
            preload=preload,
            save=save,
            unblocks=UNBLOCKS,
        )
    ]
