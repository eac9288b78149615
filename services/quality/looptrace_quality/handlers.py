"""Kafka entrypoints of the quality service: the reaction table and the batch's preload."""

from __future__ import annotations

from looptrace_quality import services as uc
from looptrace_quality.config import QualitySettings
from looptrace_quality.models import order_completions
from looptrace_quality.services import QualityContext
from looptrace_quality.services.screening import screen_stored_photo
from looptrace_shared.archive import noting_completions
from looptrace_shared.messaging.dispatch import ConsumerGroup, Reaction, calls
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


REACTIONS: dict[str, Reaction[QualityContext]] = {
    "production.stages_initialized": calls(uc.record_order),
    "production.stage_completed": calls(uc.schedule_for_stage),
    "production.supplier_reassigned": calls(uc.move_to_supplier),
    "InspectionResultSubmitted": calls(uc.submit_result),
    "production.photo_stored": calls(screen_stored_photo),
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
