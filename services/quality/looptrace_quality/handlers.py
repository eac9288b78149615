"""Kafka entrypoints of the quality service: the reaction table and the batch's preload."""

from __future__ import annotations

from looptrace_quality import services as uc
from looptrace_quality.config import QualitySettings
from looptrace_quality.models import order_completions
from looptrace_quality.services import QualityContext
from looptrace_quality.services.screening import screen_stored_photo
from looptrace_shared.archive import noting_completions
from looptrace_shared.messaging.dispatch import ConsumerGroup, Reaction
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.runtime import Runtime
from looptrace_shared.topics import ORDERS_EVENTS, PRODUCTION_EVENTS, QUALITY_INBOUND

# Messages that can end another message's wait: the order's facts, and the QC stage
# whose inspection a parked result is waiting for; and a reassignment, which must not wait
# behind a result that waits for its inspection to be booked (found by tests/invariants).
UNBLOCKS = frozenset(
    {
        "production.stages_initialized",
        "production.stage_completed",
        "production.supplier_reassigned",
    }
)


async def when_stages_initialized_keep_the_order_lot(ctx: QualityContext, item: Incoming) -> None:
    await uc.record_order(ctx, item.data)


async def when_qc_stage_completed_schedule_inspection(ctx: QualityContext, item: Incoming) -> None:
    await uc.schedule_for_stage(ctx, item.data)


async def when_supplier_reassigned_move_the_open_work(ctx: QualityContext, item: Incoming) -> None:
    await uc.move_to_supplier(ctx, item.data)


async def when_photo_stored_screen_it(ctx: QualityContext, item: Incoming) -> None:
    await screen_stored_photo(ctx, item.data)


async def when_result_submitted_decide_the_lot(ctx: QualityContext, item: Incoming) -> None:
    await uc.submit_result(ctx, item.data)


REACTIONS: dict[str, Reaction[QualityContext]] = {
    "production.stages_initialized": when_stages_initialized_keep_the_order_lot,
    "production.stage_completed": when_qc_stage_completed_schedule_inspection,
    "production.supplier_reassigned": when_supplier_reassigned_move_the_open_work,
    "InspectionResultSubmitted": when_result_submitted_decide_the_lot,
    "production.photo_stored": when_photo_stored_screen_it,
    "order.status_changed": noting_completions(order_completions),
}


async def preload(ctx: QualityContext, items: list[Incoming]) -> None:
    """The lots of every order of the batch, in one query."""
    await ctx.preload([i.subject for i in items])


def consumer_groups(rt: Runtime[QualitySettings, None]) -> list[ConsumerGroup[QualityContext]]:
    settings = rt.settings
    return [
        ConsumerGroup(
            "quality",
            (PRODUCTION_EVENTS, QUALITY_INBOUND, ORDERS_EVENTS),
            REACTIONS,
            context=lambda uow: QualityContext(uow, settings),
            preload=preload,
            unblocks=UNBLOCKS,
        )
    ]
