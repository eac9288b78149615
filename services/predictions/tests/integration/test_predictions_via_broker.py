"""The predictions service in-process with its lifespan: real broker, PostgreSQL and HTTP API."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from looptrace_predictions.app import create_app
from looptrace_predictions.config import PredictionsSettings
from looptrace_shared.envelope import new_envelope
from looptrace_shared.testing import (
    bearer,
    broker_settings,
    eventually,
    order_envelopes,
    running_service,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def running(database_url: str, kafka_bootstrap: str, trained_models: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    model_dir = tmp_path_factory.mktemp("service") / "models"
    shutil.copytree(trained_models, model_dir)
    settings = PredictionsSettings(
        **broker_settings(database_url, kafka_bootstrap), predictions_model_dir=str(model_dir)
    )
    async with running_service(create_app, settings) as up:
        yield up


auth = bearer


async def send(
    producer: AIOKafkaProducer, topic: str, type_: str, oid: str, data: dict[str, Any]
) -> None:
    value = new_envelope(type_, "test", oid, data).to_bytes()
    await producer.send_and_wait(topic, value, key=oid.encode())


async def alerts_for(bootstrap: str, oid: str) -> list[dict[str, Any]]:
    return await order_envelopes(bootstrap, "predictions.alerts.v1", oid)


def day(offset: int) -> str:
    return str(date.today() + timedelta(days=offset))


async def publish_late_order(producer: AIOKafkaProducer, oid: str) -> None:
    stages = [{"stage_number": 1, "stage_name": "Cutting", "status": "pending",
               "planned_start": day(-20), "planned_end": day(-10)},
              {"stage_number": 2, "stage_name": "Sewing", "status": "pending",
               "planned_start": day(-10), "planned_end": day(-3)}]  # fmt: skip
    await send(producer, "production.events.v1", "production.stages_initialized", oid, {
        "order_id": oid, "order_number": "PO-77", "supplier_id": "sup-9", "buyer_id": "b-9",
        "product_category": "denim", "target_date": day(-2), "projected_completion": day(5),
        "at_risk": True, "stages": stages, "quantity": 800})  # fmt: skip
    await send(producer, "production.events.v1", "production.stage_started", oid, {
        "order_id": oid, "order_number": "PO-77", "stage_number": 1, "stage_name": "Cutting",
        "started_at": datetime.now(UTC).isoformat()})  # fmt: skip


async def test_models_are_listed_and_promoted_by_an_admin_only(running) -> None:  # type: ignore[no-untyped-def]
    settings, _, http = running
    as_buyer = await http.get("/v1/models", headers=auth(settings, "buyer"))
    assert as_buyer.status_code == 403  # listing models is for admins
    listed = (await http.get("/v1/models", headers=auth(settings, "admin"))).json()
    assert "model_dir" not in listed and str(settings.predictions_model_dir) not in str(listed)
    assert (listed["active"], listed["serving"]) == ("v1", "v1")
    assert [v["version"] for v in listed["versions"]] == ["v1", "v2"]
    assert listed["versions"][0]["metrics"]["classification"]["model"]["overall"]["n"] > 0
    unknown = await http.post("/v1/models/v9/promote", headers=auth(settings, "admin"))
    assert unknown.status_code == 404 and "versions: v1, v2" in unknown.json()["detail"]
    refused = await http.post("/v1/models/v2/promote", headers=auth(settings, "buyer"))
    assert refused.status_code == 403
    promoted = (await http.post("/v1/models/v2/promote", headers=auth(settings, "admin"))).json()
    assert (promoted["active"], promoted["serving"]) == ("v2", "v2")


async def test_stage_events_through_the_broker_raise_an_alert(
    running, kafka_bootstrap: str
) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    assert (
        await http.post("/v1/models/v2/promote", headers=auth(settings, "admin"))
    ).status_code == 200
    oid = str(uuid.uuid4())
    await publish_late_order(producer, oid)
    alerts = await alerts_for(kafka_bootstrap, oid)
    assert [a["type"] for a in alerts] == ["predictions.delay_risk"]
    data = alerts[0]["data"]
    assert (data["model_version"], data["baseline"], data["previous_risk_level"]) == (
        "v2",
        False,
        None,
    )
    assert data["risk_level"] in ("low", "medium", "high") and data["drivers"]

    risk = await http.get(f"/v1/orders/{oid}/risk", headers=auth(settings, "buyer", "b-9"))
    assert risk.status_code == 200
    body = risk.json()
    assert body["risk_level"] == data["risk_level"] and body["open"] is True
    # the events may be scored in one batch or several: one assessment raised the alert
    alerted = [h for h in body["history"] if h["alerted"]]
    assert len(alerted) == 1, body["history"]
    assert (alerted[0]["model_version"], alerted[0]["risk_level"]) == ("v2", data["risk_level"])
    # the alert's interval is the alerted assessment's; a later batch may have assessed the
    # order again (same level, no alert) with another interval, which the endpoint shows now
    interval = alerted[0]["interval"]
    assert interval["level"] == data["interval_level"] == 0.8
    assert (interval["delay_p10_days"], interval["delay_p90_days"]) == (
        data["delay_p10_days"],
        data["delay_p90_days"],
    )
    assert interval["completion_latest"] == data["projected_completion_latest"]
    assert body["interval"] == body["history"][0]["interval"]  # current = newest assessment
    assert body["interval"]["level"] == 0.8
    stranger = await http.get(f"/v1/orders/{oid}/risk", headers=auth(settings, "supplier", "s-x"))
    assert stranger.status_code == 404
    inspector = await http.get(f"/v1/orders/{oid}/risk", headers=auth(settings, "inspector"))
    assert inspector.status_code == 403


async def test_a_capacity_overload_through_the_broker_becomes_a_driver(
    running, kafka_bootstrap: str, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    """production.capacity_overloaded for the supplier's next week → stored, then the load
    feature of the supplier's order and its driver sentence."""
    _, producer, _ = running
    supplier = f"sup-{uuid.uuid4().hex[:8]}"
    week = date.today() - timedelta(days=date.today().weekday()) + timedelta(days=7)
    over = {"supplier_id": supplier, "week": str(week), "bucket": "process:sewing",
            "load_units": 1400.0, "capacity_units": 1000, "utilisation_pct": 140.0}  # fmt: skip
    await send(producer, "production.events.v1", "production.capacity_overloaded", supplier, over)
    engine = create_async_engine(database_url)
    stored = text(
        "SELECT utilisation_pct, overloaded FROM predictions.supplier_capacity_weeks "
        "WHERE supplier_id = :s"
    )

    async def kept() -> bool:  # other keys may be consumed first: wait for it to be kept
        async with engine.connect() as c:
            return [tuple(r) for r in await c.execute(stored, {"s": supplier})] == [(140.0, True)]

    await eventually(kept)
    await engine.dispose()
    oid = str(uuid.uuid4())
    stages = [{"stage_number": 1, "stage_name": "Cutting", "status": "pending",
               "planned_start": day(0), "planned_end": day(6)},
              {"stage_number": 2, "stage_name": "Sewing & Assembly", "status": "pending",
               "planned_start": day(6), "planned_end": day(16)}]  # fmt: skip
    await send(producer, "production.events.v1", "production.stages_initialized", oid, {
        "order_id": oid, "order_number": "PO-78", "supplier_id": supplier, "buyer_id": "b-9",
        "product_category": "cut-and-sew", "target_date": day(25),
        "projected_completion": day(16), "at_risk": False, "stages": stages, "quantity": 900})  # fmt: skip
    alerts = await alerts_for(kafka_bootstrap, oid)
    iso = week.isocalendar().week
    sentence = f"supplier {supplier} is at 140 % of its sewing capacity in week {iso}"
    assert sentence in alerts[0]["data"]["drivers"], alerts[0]["data"]["drivers"]
