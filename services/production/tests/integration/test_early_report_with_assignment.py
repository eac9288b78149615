"""A new order's first progress report and its assignment in one batch, report first: the
assignment plans the order and the report is applied right after it (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

import looptrace_production
from looptrace_production.config import ProductionSettings
from looptrace_production.handlers import consumer_group
from looptrace_production.models import plumbing
from looptrace_production.services import Planning
from looptrace_production.templates import load_templates
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.topics import ORDERS_EVENTS, PRODUCTION_PROGRESS

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_production.__file__).parent / "migrations"


@pytest.fixture
async def processor(database_url: str):  # type: ignore[no-untyped-def]
    from looptrace_shared.migrations import migrate

    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    engine = make_engine(database_url, 2)
    settings = ProductionSettings(
        database_url=database_url, parking_timeout_s=0.5, parking_retry_s=0
    )
    group = consumer_group(Planning(settings, load_templates()))
    yield BatchProcessor(group, make_sessionmaker(engine), plumbing, settings)
    await engine.dispose()


async def state(p: BatchProcessor, oid: str) -> tuple[int, int, int]:
    """(plans, progress-log rows, dead letters of the order)."""
    q = text(
        "SELECT (SELECT count(*) FROM production.supplier_orders WHERE order_id = :o),"
        " (SELECT count(*) FROM production.progress_log WHERE order_id = :o),"
        " (SELECT count(*) FROM production.outbox WHERE topic LIKE '%.dlq'"
        "   AND key = CAST(:o AS bytea))"
    )
    async with p.sessions() as s:
        row = (await s.execute(q, {"o": oid})).one()
    return row[0], row[1], row[2]


async def test_report_then_assignment_in_one_batch_plans_the_order(processor, build) -> None:  # type: ignore[no-untyped-def]
    oid = str(uuid.uuid4())
    at = datetime.now(UTC) - timedelta(hours=1)
    report = {"order_id": oid, "stage": 1, "percentage": 30, "reported_at": at.isoformat()}
    batch = [
        build.record("ProgressReported", oid, report, PRODUCTION_PROGRESS, 0),
        build.record(
            "order.supplier_assigned", oid, build.assignment(oid, "knitwear"), ORDERS_EVENTS, 0
        ),
    ]
    await processor.process(batch)
    assert (await state(processor, oid))[0] == 1, "the assignment must plan the order"
    for _ in range(20):  # the parked report is retried (as the runtime's loop does)
        await processor.retry_parked()
        if (await state(processor, oid))[1] == 1:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.6)  # past the parking timeout: nothing may be left to expire
    await processor.retry_parked()
    assert await state(processor, oid) == (1, 1, 0)


async def test_a_cancellation_then_its_assignment_in_one_batch_plans_the_order_closed(
    processor, build
) -> None:  # type: ignore[no-untyped-def]
    oid = str(uuid.uuid4())
    cancelled = {"order_id": oid, "order_number": f"PO-{oid[:8]}", "from_status": "placed",
                 "to_status": "cancelled", "status": "cancelled",
                 "production_status": "not_started", "reason": "withdrawn"}  # fmt: skip
    at = datetime.now(UTC) - timedelta(hours=1)
    report = {"order_id": oid, "stage": 1, "percentage": 30, "reported_at": at.isoformat()}
    assigned = build.assignment(oid, "knitwear", supplier=f"s-{oid[:12]}")
    await processor.process(
        [
            build.record("order.status_changed", oid, cancelled, ORDERS_EVENTS, 0),
            build.record("order.supplier_assigned", oid, assigned, ORDERS_EVENTS, 1),
            build.record("ProgressReported", oid, report, PRODUCTION_PROGRESS, 0),
        ]
    )
    assert await state(processor, oid) == (1, 0, 1), "planned, report refused, nothing parked"
    q = text(
        "SELECT o.closed_as, (SELECT count(*) FROM production.load_deltas"
        "  WHERE supplier_id = o.supplier_id AND units <> 0),"
        " (SELECT count(*) FROM production.outbox WHERE topic = 'production.events.v1'"
        "  AND key = convert_to(:k, 'UTF8')) FROM production.supplier_orders o"
        " WHERE o.order_id = :o"
    )
    async with processor.sessions() as s:
        closed_as, deltas, announced = (await s.execute(q, {"o": oid, "k": oid})).one()
    assert closed_as == "cancelled"
    assert deltas == 0, "a plan closed before it starts loads nothing"
    assert announced == 0, "no stages_initialized for an order already cancelled"
