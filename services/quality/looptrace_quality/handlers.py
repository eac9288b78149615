"""Kafka entrypoints of the quality service: envelope in → use case → events out."""

from __future__ import annotations

from looptrace_quality import services as uc
from looptrace_quality.config import QualitySettings
from looptrace_quality.services import QualityContext
from looptrace_shared.db import UnitOfWork
from looptrace_shared.messaging.consumer import ConsumerGroup
from looptrace_shared.messaging.dispatch import Dispatcher, Outcomes
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.runtime import Runtime
from looptrace_shared.topics import PRODUCTION_EVENTS, QUALITY_INBOUND

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


async def when_result_submitted_decide_the_lot(ctx: QualityContext, item: Incoming) -> None:
    await uc.submit_result(ctx, item.data)


dispatcher: Dispatcher[QualityContext] = Dispatcher(
    {
        "production.stages_initialized": when_stages_initialized_keep_the_order_lot,
        "production.stage_completed": when_qc_stage_completed_schedule_inspection,
        "production.supplier_reassigned": when_supplier_reassigned_move_the_open_work,
        "InspectionResultSubmitted": when_result_submitted_decide_the_lot,
    },
    UNBLOCKS,
)


def batch_handler(settings: QualitySettings):  # type: ignore[no-untyped-def]
    async def handle_batch(uow: UnitOfWork, items: list[Incoming]) -> Outcomes:
        ctx = QualityContext(uow, settings)
        await ctx.preload([i.subject for i in items])
        outcomes = await dispatcher.run(ctx, items)
        await uow.session.flush()
        return outcomes

    return handle_batch


def consumer_groups(rt: Runtime) -> list[ConsumerGroup]:
    handle = batch_handler(rt.settings)  # type: ignore[arg-type]
    return [ConsumerGroup("quality", (PRODUCTION_EVENTS, QUALITY_INBOUND), handle, UNBLOCKS)]
