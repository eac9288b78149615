"""Quality risk through the real broker: inline checks and inspection results move an order's
quality-risk level; ``predictions.quality_risk`` is published once per level change."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from looptrace_predictions.app import create_app
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.training.inspections import INSPECTION_COLUMNS
from looptrace_predictions.training.live_history import export_inspections
from looptrace_shared.envelope import new_envelope
from looptrace_shared.testing import (
    bearer,
    broker_settings,
    eventually,
    running_service,
)

pytestmark = pytest.mark.integration
ALERT = "predictions.quality_risk"
LEVELS = ["low", "medium", "high"]


@pytest.fixture(scope="module")
async def running(  # type: ignore[no-untyped-def]
    database_url: str, kafka_bootstrap: str, trained_models: Path,
    trained_quality_models: Path, tmp_path_factory,
):  # fmt: skip
    root = tmp_path_factory.mktemp("quality-service")
    shutil.copytree(trained_models, root / "models")
    shutil.copytree(trained_quality_models, root / "quality")
    settings = PredictionsSettings(
        **broker_settings(database_url, kafka_bootstrap),
        predictions_model_dir=str(root / "models"),
        predictions_quality_model_dir=str(root / "quality"),
    )
    engine = create_async_engine(database_url)
    async with running_service(create_app, settings) as up:
        yield (*up, engine)
    await engine.dispose()


def day(offset: int) -> str:
    return str(date.today() + timedelta(days=offset))


async def send(producer: Any, topic: str, type_: str, oid: str, data: dict[str, Any]) -> None:
    await producer.send_and_wait(
        topic, new_envelope(type_, "test", oid, data).to_bytes(), key=oid.encode()
    )


async def plan_cut_and_sew(producer: Any, oid: str, supplier: str) -> None:
    names = ["Sewing & Assembly", "Quality Control (Internal)", "Final Inspection"]
    bounds = [(-10, 4), (4, 6), (6, 8)]
    stages = [{"stage_number": n + 1, "stage_name": name, "status": "pending",
               "planned_start": day(a), "planned_end": day(b)}
              for n, (name, (a, b)) in enumerate(zip(names, bounds, strict=True))]  # fmt: skip
    await send(producer, "production.events.v1", "production.stages_initialized", oid, {
        "order_id": oid, "order_number": "PO-Q1", "supplier_id": supplier, "buyer_id": "b-q",
        "product_category": "cut-and-sew", "target_date": day(12), "projected_completion": day(9),
        "at_risk": False, "stages": stages, "quantity": 2400})  # fmt: skip
    await start_sewing(producer, oid)


async def start_sewing(producer: Any, oid: str) -> None:
    await send(producer, "production.events.v1", "production.stage_started", oid, {
        "order_id": oid, "order_number": "PO-Q1", "stage_number": 1,
        "stage_name": "Sewing & Assembly", "started_at": datetime.now(UTC).isoformat()})  # fmt: skip


async def inline_check(producer: Any, oid: str, supplier: str, major: int) -> str:
    check_id = str(uuid.uuid4())
    await send(producer, "quality.events.v1", "quality.inline_check_recorded", oid, {
        "order_id": oid, "inline_check_id": check_id, "supplier_id": supplier,
        "stage_name": "Sewing & Assembly", "units_checked": 100,
        "defects_by_class": {"critical": 0, "major": major, "minor": major // 2},
        "dhu": str(major + major // 2), "checked_at": datetime.now(UTC).isoformat()})  # fmt: skip
    return check_id


async def logged(engine: Any, oid: str) -> int:
    async with engine.connect() as conn:
        q = text("SELECT count(*) FROM predictions.inspection_log WHERE order_id = :oid")
        return int((await conn.execute(q, {"oid": oid})).scalar_one())


async def test_quality_risk_is_alerted_once_per_level_change(running, kafka_bootstrap) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http, engine = running
    oid, supplier = str(uuid.uuid4()), f"sup-q-{uuid.uuid4().hex[:8]}"
    await plan_cut_and_sew(producer, oid, supplier)
    quality = await _quality_alerts(kafka_bootstrap, oid, want=1)
    assert len(quality) == 1
    opening = quality[0]["data"]
    assert opening["previous_risk_level"] is None and opening["model_version"] == "v1"
    assert opening["inspection_stage"] == "Quality Control (Internal)"
    assert opening["inspection_round"] == 1 and opening["risk_level"] != "high"

    await inline_check(producer, oid, supplier, major=30)  # a line finding 45 DHU
    raised = await _quality_alerts(kafka_bootstrap, oid, want=2)
    assert len(raised) == 2
    data = raised[1]["data"]
    assert data["previous_risk_level"] == opening["risk_level"]
    assert LEVELS.index(data["risk_level"]) > LEVELS.index(opening["risk_level"])
    assert data["probability"] > opening["probability"]
    assert any("defects per hundred units" in d for d in data["drivers"])
    assert "tighten the AQL for this lot" in data["recommended_actions"]
    assert await logged(engine, oid) == 1

    # the order is scored again with nothing new about its quality: same level, no alert
    before = await _assessments(http, settings, oid)
    await start_sewing(producer, oid)
    await eventually(lambda: _assessed_more(http, settings, oid, before))
    again = await _quality_alerts(kafka_bootstrap, oid, want=3, timeout_s=3)
    assert len(again) == 2, [a["data"]["risk_level"] for a in again]
    risk = (
        await http.get(f"/v1/orders/{oid}/risk", headers=bearer(settings, "buyer", "b-q"))
    ).json()
    assert risk["quality_risk_level"] == data["risk_level"]
    assert risk["quality_probability"] == data["probability"]

    async with AsyncSession(engine) as session:  # the record a user exports for training
        exported = await export_inspections(session)
    (row,) = exported[exported["order_id"] == oid].to_dict("records")
    assert list(exported.columns) == list(INSPECTION_COLUMNS)
    assert (row["inspection_stage"], row["sample_size"], row["major"], row["minor"]) == (
        "Sewing & Assembly", 100, 30, 15,
    )  # fmt: skip
    assert row["result"] == "inline" and row["inspected_on"].date() == datetime.now(UTC).date()


async def _assessments(http: Any, settings: PredictionsSettings, oid: str) -> int:
    risk = await http.get(f"/v1/orders/{oid}/risk", headers=bearer(settings, "buyer", "b-q"))
    return len(risk.json()["history"])


async def _assessed_more(http: Any, settings: PredictionsSettings, oid: str, before: int) -> bool:
    return await _assessments(http, settings, oid) > before


async def _quality_alerts(
    bootstrap: str, oid: str, want: int, timeout_s: float = 30
) -> list[dict[str, Any]]:
    """The quality alerts about ``oid``, read from the start of the alerts topic (delay
    alerts share it) until ``want`` are found or ``timeout_s`` passes."""
    consumer = AIOKafkaConsumer(
        "predictions.alerts.v1", bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                envelopes = (json.loads(r.value) for r in records)
                found += [e for e in envelopes if e["subject"] == oid and e["type"] == ALERT]
    finally:
        await consumer.stop()
    return found
