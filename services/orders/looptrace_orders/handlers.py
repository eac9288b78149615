"""Kafka entrypoints of the orders service: envelope in → use case → events out."""

from __future__ import annotations

import functools
from typing import Any

from looptrace_orders import services as uc
from looptrace_orders.order_dates import TargetWindow
from looptrace_orders.services import OrdersContext
from looptrace_shared.db import UnitOfWork
from looptrace_shared.events import orders as ev
from looptrace_shared.messaging.consumer import ConsumerGroup
from looptrace_shared.messaging.dispatch import Dispatcher, Outcomes
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.topics import ORDERS_INBOUND, PRODUCTION_EVENTS, QUALITY_EVENTS


def with_payload(fn):  # type: ignore[no-untyped-def]
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


async def when_delivery_confirmed(ctx: OrdersContext, cmd: ev.DeliveryConfirmed) -> None:
    await uc.confirm_delivery(ctx, cmd.order_id, cmd.delivered_at)


async def when_order_cancelled(ctx: OrdersContext, cmd: ev.OrderCancelled) -> None:
    await uc.cancel(ctx, cmd.order_id, cmd.reason)


def react_as(cause: str):  # type: ignore[no-untyped-def]
    """A production or quality fact moves the workflow as the domain's reaction table says."""

    async def reaction(ctx: OrdersContext, item: Incoming) -> None:
        order = await ctx.get(item.data.order_id)
        uc.apply_reaction(ctx, order, cause, getattr(item.data, "summary", None))

    return reaction


async def when_stage_completed(ctx: OrdersContext, item: Incoming) -> None:
    if item.data.shipping:
        await react_as("production.shipping_stage_completed")(ctx, item)


async def when_plan_reforecast(ctx: OrdersContext, item: Incoming) -> None:
    if item.data.projected_completion <= item.data.target_date:
        await react_as("production.plan_back_on_track")(ctx, item)


UNBLOCKS = frozenset({"OrderPlaced", "QuoteRequested"})

dispatcher: Dispatcher[OrdersContext] = Dispatcher(
    {
        "OrderPlaced": with_payload(when_order_placed),
        "QuoteRequested": with_payload(uc.request_quote),
        "QuoteProvided": with_payload(uc.provide_quote),
        "QuoteAccepted": with_payload(uc.accept_quote),
        "SupplierAssigned": with_payload(when_supplier_assigned),
        "OrderShipped": with_payload(when_order_shipped),
        "DeliveryConfirmed": with_payload(when_delivery_confirmed),
        "OrderCancelled": with_payload(when_order_cancelled),
        "production.stage_started": react_as("production.stage_started"),
        "production.stage_delayed": react_as("production.stage_delayed"),
        "production.stage_completed": when_stage_completed,
        "production.plan_reforecast": when_plan_reforecast,
        "quality.inspection_scheduled": react_as("quality.inspection_scheduled"),
        "quality.inspection_failed": react_as("quality.inspection_failed"),
    },
    UNBLOCKS,
)


async def handle_batch(
    uow: UnitOfWork, items: list[Incoming], window: TargetWindow | None = None
) -> Outcomes:
    ctx = OrdersContext(uow, target_window=window or TargetWindow())
    numbers = [i.data.order_number for i in items if i.type == "OrderPlaced"]
    ids = [i.subject for i in items] + [getattr(i.data, "order_id", i.subject) for i in items]
    await ctx.preload(ids, numbers)
    outcomes = await dispatcher.run(ctx, items)
    await uow.session.flush()
    return outcomes


def consumer_groups(rt: Any) -> list[ConsumerGroup]:
    window = getattr(rt.settings, "target_window", None) if rt is not None else None
    return [
        ConsumerGroup(
            "orders",
            (ORDERS_INBOUND, PRODUCTION_EVENTS, QUALITY_EVENTS),
            functools.partial(handle_batch, window=window),
            unblocks=UNBLOCKS,
        )
    ]
