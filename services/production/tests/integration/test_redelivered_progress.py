"""A redelivered progress report is recognised by the progress log (the inbox is skipped for
progress reports): nothing is logged, applied or published twice (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
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
from looptrace_shared.migrations import migrate
from looptrace_shared.topics import ORDERS_EVENTS, PRODUCTION_PROGRESS

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_production.__file__).parent / "migrations"
AT = datetime.now(UTC) - timedelta(hours=2)
TYPE_ASSIGNED = "order.supplier_assigned"


def reported(ref: dict[str, str], pct: int, message_id: str | None) -> dict:  # type: ignore[type-arg]
    data = {**ref, "stage": 1, "percentage": pct, "reported_at": AT.isoformat()}
    return {**data, "message_id": message_id} if message_id else data


@pytest.fixture
async def processor(database_url: str):  # type: ignore[no-untyped-def]
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    engine = make_engine(database_url, 2)
    settings = ProductionSettings(database_url=database_url)
    group = consumer_group(Planning(settings, load_templates()))
    assert "ProgressReported" in group.idempotent
    yield BatchProcessor(group, make_sessionmaker(engine), plumbing, settings)
    await engine.dispose()


async def counts(p: BatchProcessor, oid: str) -> tuple[int, int, int]:
    async with p.sessions() as s:
        row = (
            await s.execute(
                text(
                    "SELECT (SELECT count(*) FROM production.progress_log WHERE order_id = :o),"
                    " (SELECT count(*) FROM production.outbox WHERE key = CAST(:o AS bytea)"
                    "   AND headers->>'type' = 'production.stage_progressed'),"
                    " (SELECT count(*) FROM production.outbox WHERE topic LIKE '%.dlq')"
                ),
                {"o": oid},
            )
        ).one()
        return row[0], row[1], row[2]


@pytest.mark.parametrize("by", ["id", "number", "number, no message id"])
async def test_a_redelivered_report_changes_nothing(processor, build, by: str) -> None:  # type: ignore[no-untyped-def]
    oid = str(uuid.uuid4())
    assignment = build.assignment(oid, "knitwear")
    await processor.process([build.record(TYPE_ASSIGNED, oid, assignment, ORDERS_EVENTS)])
    number = assignment.order_number
    ref, subject = ({"order_id": oid}, oid) if by == "id" else ({"order_number": number}, number)
    message_id = None if "no message id" in by else "sup-1"
    first, second = (
        build.record("ProgressReported", subject, reported(ref, pct, mid), PRODUCTION_PROGRESS, pct)
        for pct, mid in ((40, message_id), (60, "sup-2"))
    )
    await processor.process([first])
    assert await counts(processor, oid) == (1, 1, 0)
    await processor.process([first, first, second])  # redelivered, and twice in one batch
    await processor.process([first])
    assert await counts(processor, oid) == (2, 2, 0)
    async with processor.sessions() as s:
        pct = await s.scalar(
            text("SELECT percentage FROM production.progress_log WHERE order_id = :o ORDER BY id"),
            {"o": oid},
        )
    assert pct == 40
    ids = [json.loads(r.value)["id"] for r in (first, second)]
    async with processor.sessions() as s:  # progress reports are not in the inbox
        q = "SELECT count(*) FROM production.inbox WHERE event_id = ANY(:ids)"
        assert await s.scalar(text(q), {"ids": ids}) == 0
