"""The quality reactions against a real PostgreSQL: batches in, rows and outbox events out."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import looptrace_quality
from looptrace_quality.config import QualitySettings
from looptrace_quality.handlers import consumer_groups
from looptrace_quality.models import InspectionRow, plumbing
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_quality.__file__).parent / "migrations"
_offsets = itertools.count()


@pytest.fixture(scope="module")
async def processor(database_url: str):  # type: ignore[no-untyped-def]
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    settings = QualitySettings(database_url=database_url, parking_retry_s=0.0)
    engine = make_engine(database_url)
    rt = Runtime(settings, engine, make_sessionmaker(engine), plumbing)
    (group,) = consumer_groups(rt)
    yield BatchProcessor(group, rt.sessions, plumbing, settings)
    await engine.dispose()


def record(type_: str, order_id: str, data: dict[str, Any]) -> Record:
    topic = "quality.inbound.v1" if type_ == "InspectionResultSubmitted" else "production.events.v1"
    value = new_envelope(type_, "test", order_id, data).to_bytes()
    return Record(topic, 0, next(_offsets), order_id.encode(), value)


def initialized(order_id: str, supplier: str, quantity: int | None = 500) -> Record:
    stage = {"stage_number": 9, "stage_name": "Final QC", "status": "pending",
             "planned_start": None, "planned_end": None, "qc": True}  # fmt: skip
    return record("production.stages_initialized", order_id, {
        "order_id": order_id, "order_number": f"PO-{order_id[:6]}", "supplier_id": supplier,
        "product_category": "knitwear", "target_date": str(date(2031, 1, 1)),
        "projected_completion": str(date(2031, 1, 1)), "at_risk": False, "stages": [stage],
        "quantity": quantity,
    })  # fmt: skip


def qc_completed(order_id: str) -> Record:
    return record("production.stage_completed", order_id, {
        "order_id": order_id, "order_number": "x", "stage_number": 9, "stage_name": "Final QC",
        "completed_at": datetime.now(UTC).isoformat(), "qc": True,
    })  # fmt: skip


def result(
    order_id: str, sample: int = 50, major: int = 0, inspection_id: str | None = None
) -> Record:
    defects = (
        [{"defect_class": "major", "defect_type": "BROKEN_STITCH", "count": major}] if major else []
    )
    return record("InspectionResultSubmitted", order_id, {
        "order_id": order_id, "inspection_id": inspection_id, "inspector": "qc-1",
        "sample_inspected": sample, "defects": defects,
    })  # fmt: skip


async def events(p: BatchProcessor, order_id: str) -> list[dict[str, Any]]:
    async with p.sessions() as s:
        rows = (await s.execute(select(plumbing.outbox).order_by(plumbing.outbox.c.id))).all()
    found = [json.loads(r.value) for r in rows if r.key == order_id.encode()]
    return [{**e["data"], "type": e["type"]} if "data" in e else e for e in found]


async def dead_letters(p: BatchProcessor, order_id: str) -> list[dict[str, str]]:
    async with p.sessions() as s:
        rows = (await s.execute(select(plumbing.outbox))).all()
    return [r.headers for r in rows if r.topic.endswith(".dlq") and r.key == order_id.encode()]


async def inspections(p: BatchProcessor, order_id: str) -> list[InspectionRow]:
    async with p.sessions() as s:
        q = (
            select(InspectionRow)
            .where(InspectionRow.order_id == order_id)
            .order_by(InspectionRow.round)
        )
        return list(await s.scalars(q))


def new_ids() -> tuple[str, str]:
    return str(uuid.uuid4()), f"sup-{uuid.uuid4().hex[:8]}"


async def test_fail_rework_reinspect_pass(processor: BatchProcessor) -> None:
    oid, sup = new_ids()
    await processor.process([initialized(oid, sup), qc_completed(oid)])
    (scheduled,) = [
        e for e in await events(processor, oid) if e["type"] == "quality.inspection_scheduled"
    ]
    assert (scheduled["lot_size"], scheduled["sample_size"], scheduled["severity"]) == (
        500,
        50,
        "normal",
    )
    major = next(p for p in scheduled["plans"] if p["defect_class"] == "major")
    assert (major["code_letter"], major["sample_size"], major["accept"], major["reject"]) == (
        "H",
        50,
        3,
        4,
    )

    await processor.process([result(oid, major=4), qc_completed(oid)])
    await processor.process([result(oid, major=3)])
    types = [e["type"] for e in await events(processor, oid)]
    assert types == ["quality.inspection_scheduled", "quality.inspection_failed",
                     "quality.inspection_scheduled", "quality.inspection_passed"]  # fmt: skip
    first, second = await inspections(processor, oid)
    assert (first.disposition, second.disposition) == ("rejected", "accepted")
    assert (second.round, second.reinspection_of) == (2, first.id)
    failed = (await events(processor, oid))[1]
    assert failed["defects_by_class"] == {"critical": 0, "major": 4, "minor": 0}
    assert "Lot rejected" in failed["summary"] and "major 4 found (Ac 3, Re 4)" in failed["summary"]


async def test_redelivered_stage_completion_books_once(processor: BatchProcessor) -> None:
    oid, sup = new_ids()
    await processor.process([initialized(oid, sup), qc_completed(oid), qc_completed(oid)])
    assert len(await inspections(processor, oid)) == 1


async def test_two_rejected_lots_tighten_the_supplier(processor: BatchProcessor) -> None:
    sup = f"sup-{uuid.uuid4().hex[:8]}"
    lots = [str(uuid.uuid4()) for _ in range(3)]
    for oid, major in zip(lots[:2], (4, 9), strict=True):
        await processor.process(
            [initialized(oid, sup), qc_completed(oid), result(oid, major=major)]
        )
    changed = [
        e
        for e in await events(processor, lots[1])
        if e["type"] == "quality.supplier_severity_changed"
    ]
    assert [(e["from_severity"], e["to_severity"], e["discontinued"]) for e in changed] == [
        ("normal", "tightened", False)]  # fmt: skip
    assert "2 of 5" in changed[0]["reason"]
    assert not [
        e for e in await events(processor, lots[0]) if e["type"].endswith("severity_changed")
    ]
    await processor.process([initialized(lots[2], sup), qc_completed(lots[2])])
    (scheduled,) = await events(processor, lots[2])
    major = next(p for p in scheduled["plans"] if p["defect_class"] == "major")
    assert (scheduled["severity"], major["accept"], major["reject"]) == ("tightened", 2, 3)


async def test_result_before_the_inspection_is_parked_then_applied(
    processor: BatchProcessor,
) -> None:
    oid, sup = new_ids()
    await processor.process([initialized(oid, sup), result(oid)])
    assert await inspections(processor, oid) == []
    await processor.process([qc_completed(oid)])  # unblocks: booked, then the parked result decides
    await processor.retry_parked()
    (row,) = await inspections(processor, oid)
    assert row.disposition == "accepted"


async def test_refusals_leave_no_partial_writes(processor: BatchProcessor) -> None:
    oid, sup = new_ids()
    await processor.process([initialized(oid, sup), qc_completed(oid), result(oid, sample=20)])
    await processor.process([result(oid), result(oid, major=5, inspection_id=None)])
    (row,) = await inspections(processor, oid)
    assert (row.disposition, row.sample_inspected) == ("accepted", 50)
    rules = {h["rule"]: h["error"] for h in await dead_letters(processor, oid)}
    assert (
        "20 units were inspected but the plan requires a sample of 50" in rules["sample_too_small"]
    )
    assert rules.keys() == {"sample_too_small"}  # the later result waits for a new inspection


async def test_second_result_for_a_decided_inspection_is_a_conflict(
    processor: BatchProcessor,
) -> None:
    oid, sup = new_ids()
    await processor.process([initialized(oid, sup), qc_completed(oid)])
    (row,) = await inspections(processor, oid)
    await processor.process([result(oid, inspection_id=row.id)])
    await processor.process([result(oid, major=9, inspection_id=row.id)])
    (conflict,) = await dead_letters(processor, oid)
    assert conflict["rule"] == "conflict" and "already decided (accepted)" in conflict["error"]


async def test_missing_quantity_refuses_to_schedule(processor: BatchProcessor) -> None:
    oid, sup = new_ids()
    await processor.process([initialized(oid, sup, quantity=None), qc_completed(oid)])
    (refused,) = await dead_letters(processor, oid)
    assert refused["rule"] == "lot_size_unknown" and "POST /v1/inspections" in refused["error"]


async def test_five_accepted_lots_on_tightened_return_the_supplier_to_normal(
    processor: BatchProcessor,
) -> None:
    sup = f"sup-{uuid.uuid4().hex[:8]}"
    rejected = [str(uuid.uuid4()) for _ in range(2)]
    for oid in rejected:  # two rejections of five: tightened
        await processor.process([initialized(oid, sup), qc_completed(oid), result(oid, major=9)])
    accepted = [str(uuid.uuid4()) for _ in range(5)]
    for oid in accepted:  # five accepted lots on tightened: back to normal
        await processor.process([initialized(oid, sup), qc_completed(oid), result(oid, major=0)])
    severities = [
        (e["from_severity"], e["to_severity"])
        for oid in rejected + accepted
        for e in await events(processor, oid)
        if e["type"] == "quality.supplier_severity_changed"
    ]
    assert severities == [("normal", "tightened"), ("tightened", "normal")]
    scheduled = [
        e
        for e in await events(processor, accepted[0])
        if e["type"] == "quality.inspection_scheduled"
    ]
    assert scheduled[0]["severity"] == "tightened"
    nxt = str(uuid.uuid4())
    await processor.process([initialized(nxt, sup), qc_completed(nxt)])
    (again,) = await events(processor, nxt)
    major = next(p for p in again["plans"] if p["defect_class"] == "major")
    assert (again["severity"], major["accept"], major["reject"]) == ("normal", 3, 4)
