"""Kafka entrypoints of the production service: envelope in → use case → events out."""

from __future__ import annotations

from looptrace_production import services as uc
from looptrace_production.plan_cache import PlanCache
from looptrace_production.services import Planning, ProductionContext
from looptrace_shared.db import UnitOfWork
from looptrace_shared.messaging.consumer import BatchHandler, ConsumerGroup
from looptrace_shared.messaging.dispatch import Dispatcher, Outcomes
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.topics import ORDERS_EVENTS, PRODUCTION_PROGRESS, QUALITY_EVENTS

GROUP = "production"
UNBLOCKS = frozenset({"order.supplier_assigned"})
# a repeated progress report is found in the progress log (message id per order), which is
# written in the same transaction: the inbox would only record it a second time
IDEMPOTENT = frozenset({"ProgressReported"})


async def when_supplier_assigned_plan_the_order(ctx: ProductionContext, item: Incoming) -> None:
    ctx.cause = item.envelope
    await uc.assign_supplier(ctx, item.data)


async def when_progress_reported_update_the_plan(ctx: ProductionContext, item: Incoming) -> None:
    ctx.cause = item.envelope
    message_id = item.data.message_id or item.event_id
    await uc.report_progress(ctx, item.data, message_id, item.subject)


async def when_inspection_failed_reopen_for_rework(ctx: ProductionContext, item: Incoming) -> None:
    ctx.cause = item.envelope
    await uc.rework_after_failed_inspection(ctx, item.data)


async def when_inspection_booked_hold_the_gate(ctx: ProductionContext, item: Incoming) -> None:
    ctx.cause = item.envelope
    await uc.record_inspection_booked(ctx, item.data)


async def when_inspection_passed_open_the_gate(ctx: ProductionContext, item: Incoming) -> None:
    ctx.cause = item.envelope
    await uc.record_inspection_passed(ctx, item.data)


dispatcher: Dispatcher[ProductionContext] = Dispatcher(
    {
        "order.supplier_assigned": when_supplier_assigned_plan_the_order,
        "ProgressReported": when_progress_reported_update_the_plan,
        "quality.inspection_scheduled": when_inspection_booked_hold_the_gate,
        "quality.inspection_passed": when_inspection_passed_open_the_gate,
        "quality.inspection_failed": when_inspection_failed_reopen_for_rework,
    },
    UNBLOCKS,  # an assignment behind its order's early report must still plan the order
)


TYPES = frozenset(dispatcher.types)


def _refs(items: list[Incoming]) -> tuple[set[str], set[str]]:
    ids, numbers = set(), set()
    for i in items:
        data = i.data
        ids.add(getattr(data, "order_id", None) or i.subject)
        if number := getattr(data, "order_number", None):
            numbers.add(number)
    return ids, numbers


def _message_keys(ctx: ProductionContext, items: list[Incoming]) -> list[tuple[str, str]]:
    """(order id, message id) of each progress report, as report_progress logs them (orders
    named by number resolved: their plans are loaded first)."""
    return [
        (
            ctx.order_id_of(i.data.order_id or i.data.order_number or i.subject),
            i.data.message_id or i.event_id,
        )
        for i in items
        if i.type == "ProgressReported"
    ]


def _assigned_suppliers(items: list[Incoming]) -> list[str]:
    return [i.data.supplier.id for i in items if i.type == "order.supplier_assigned"]


def batch_handler(planning: Planning, cache: PlanCache | None = None) -> BatchHandler:
    """The batch handler; ``cache`` keeps decoded plans between batches (see plan_cache)."""
    if cache is None:
        cache = PlanCache()

    async def handle_batch(uow: UnitOfWork, items: list[Incoming]) -> Outcomes:
        """Lock every plan of the batch in one query, apply the messages in order, save once."""
        mine = [i for i in items if i.type in TYPES]
        ctx = ProductionContext(uow, planning)
        ctx.cache_after_commit(cache)
        await ctx.preload(*_refs(mine))
        await ctx.preload_messages(_message_keys(ctx, mine))
        await ctx.preload_calendars(_assigned_suppliers(mine))
        outcomes = await dispatcher.run(ctx, mine)
        await ctx.save()
        return outcomes

    return handle_batch


def consumer_groups(planning: Planning, cache: PlanCache | None = None) -> list[ConsumerGroup]:
    topics = (ORDERS_EVENTS, PRODUCTION_PROGRESS, QUALITY_EVENTS)
    handler = batch_handler(planning, cache)
    return [ConsumerGroup(GROUP, topics, handler, unblocks=UNBLOCKS, idempotent=IDEMPOTENT)]
