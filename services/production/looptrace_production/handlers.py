"""Kafka entrypoints of the production service: the reaction table and the batch's preload."""

from __future__ import annotations

from looptrace_production import services as uc
from looptrace_production.assignment_check import check_assignments
from looptrace_production.config import ProductionSettings
from looptrace_production.models import order_completions
from looptrace_production.screenings import record_photo_screening
from looptrace_production.services import Fact, Planning, ProductionContext
from looptrace_shared.archive import noting_completions
from looptrace_shared.messaging.dispatch import ConsumerGroup, Outcomes, Reaction
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.runtime import Runtime
from looptrace_shared.topics import (
    ORDERS_EVENTS,
    PRODUCTION_PROGRESS,
    PRODUCTION_SUPPLIERS,
    QUALITY_EVENTS,
)

GROUP = "production"
# an assignment plans the order: it must not wait behind its order's early report
UNBLOCKS = frozenset({"order.supplier_assigned"})
# a repeated progress report is found in the progress log (message id per order), which is
# written in the same transaction: the inbox would only record it a second time
IDEMPOTENT = frozenset({"ProgressReported"})


def message_id(item: Incoming) -> str:
    """The supplier's own id of a report, else the envelope's (a repeat has the same)."""
    return getattr(item.data, "message_id", None) or item.event_id


async def when_supplier_assigned_plan_the_order(ctx: ProductionContext, item: Incoming) -> None:
    """Plan the order; the batch's save warns of what the assignment overlooks."""
    order = await uc.assign_supplier(ctx, item.data)
    if order is not None:
        ctx.assigned.append((order, item.data.assigned_by))


async def when_progress_reported_update_the_plan(ctx: ProductionContext, item: Incoming) -> None:
    await uc.report_progress(ctx, item.data, message_id(item), item.subject)


async def when_inspection_failed_reopen_for_rework(ctx: ProductionContext, item: Incoming) -> None:
    await uc.rework_after_failed_inspection(ctx, item.data)


async def when_inspection_booked_hold_the_gate(ctx: ProductionContext, item: Incoming) -> None:
    await uc.record_inspection_booked(ctx, item.data)


async def when_inspection_passed_open_the_gate(ctx: ProductionContext, item: Incoming) -> None:
    await uc.record_inspection_passed(ctx, item.data)


async def when_supplier_master_data_store_it(ctx: ProductionContext, item: Incoming) -> None:
    await uc.store_master_data(ctx, item.data)


async def when_photo_screened_show_it_on_the_timeline(
    ctx: ProductionContext, item: Incoming
) -> None:
    await record_photo_screening(ctx, item.data)


REACTIONS: dict[str, Reaction[ProductionContext]] = {
    "order.supplier_assigned": when_supplier_assigned_plan_the_order,
    "ProgressReported": when_progress_reported_update_the_plan,
    "quality.inspection_scheduled": when_inspection_booked_hold_the_gate,
    "quality.inspection_passed": when_inspection_passed_open_the_gate,
    "quality.inspection_failed": when_inspection_failed_reopen_for_rework,
    "SupplierMasterData": when_supplier_master_data_store_it,
    "quality.photo_screened": when_photo_screened_show_it_on_the_timeline,
    "order.status_changed": noting_completions(order_completions),
}
# reactions that need no plan: the batch's preload does not lock their orders
PLANLESS = frozenset({"order.status_changed"})


async def preload(ctx: ProductionContext, items: list[Incoming]) -> None:
    """The facts of the batch's messages, loaded as ``POST /v1/progress`` loads its reports."""
    facts = [
        Fact(i.data, i.subject, message_id(i))
        for i in items
        if i.type in REACTIONS and i.type not in PLANLESS
    ]
    await uc.preload(ctx, facts)


async def save(ctx: ProductionContext, items: list[Incoming], outcomes: Outcomes) -> None:
    """The batch's assignments checked (a few queries for all), every changed plan in one
    UPDATE, the progress log in one INSERT."""
    await check_assignments(ctx)
    await ctx.save()


def consumer_group(planning: Planning) -> ConsumerGroup[ProductionContext]:
    return ConsumerGroup(
        GROUP,
        (ORDERS_EVENTS, PRODUCTION_PROGRESS, PRODUCTION_SUPPLIERS, QUALITY_EVENTS),
        REACTIONS,
        context=lambda uow: ProductionContext.for_batch(uow, planning),
        preload=preload,
        save=save,
        unblocks=UNBLOCKS,
        idempotent=IDEMPOTENT,
    )


def consumer_groups(
    rt: Runtime[ProductionSettings, Planning],
) -> list[ConsumerGroup[ProductionContext]]:
    return [consumer_group(rt.state)]
