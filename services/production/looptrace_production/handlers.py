"""Kafka entrypoints of the production service: the reaction table and the batch's preload."""

from __future__ import annotations

from looptrace_production import services as uc
from looptrace_production.assignment_check import check_assignments
from looptrace_production.closing import close_the_plan
from looptrace_production.config import ProductionSettings
from looptrace_production.domain.supplier_order import CLOSING
from looptrace_production.models import order_completions
from looptrace_production.screenings import record_photo_screening
from looptrace_production.services import Fact, Planning, ProductionContext
from looptrace_shared.archive import noting_completions
from looptrace_shared.messaging.dispatch import ConsumerGroup, Outcomes, Reaction, calls
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


note_completion_for_retention = noting_completions(order_completions)


async def when_order_status_changed_close_the_plan(ctx: ProductionContext, item: Incoming) -> None:
    """Cancelled or completed: the plan releases its remaining load and takes no reports; a
    completion also starts the order's retention period."""
    await close_the_plan(ctx, item.data)
    await note_completion_for_retention(ctx, item)


def needs_its_plan(item: Incoming) -> bool:
    """Whether the preload must lock the message's plan: every fact but a status change that
    does not end the order (those only pass by)."""
    return item.type != "order.status_changed" or item.data.to_status in CLOSING


REACTIONS: dict[str, Reaction[ProductionContext]] = {
    "order.supplier_assigned": when_supplier_assigned_plan_the_order,
    "order.status_changed": when_order_status_changed_close_the_plan,
    "ProgressReported": when_progress_reported_update_the_plan,
    "quality.inspection_scheduled": calls(uc.record_inspection_booked),
    "quality.inspection_passed": calls(uc.record_inspection_passed),
    "quality.inspection_failed": calls(uc.rework_after_failed_inspection),
    "SupplierMasterData": calls(uc.store_master_data),
    "quality.photo_screened": calls(record_photo_screening),
}


async def preload(ctx: ProductionContext, items: list[Incoming]) -> None:
    """The facts of the batch's messages, loaded as ``POST /v1/progress`` loads its reports."""
    facts = [
        Fact(i.data, i.subject, message_id(i))
        for i in items
        if i.type in REACTIONS and needs_its_plan(i)
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
