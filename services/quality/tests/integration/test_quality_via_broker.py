"""The quality service in-process, over the real broker, PostgreSQL and its HTTP API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from looptrace_shared.envelope import new_envelope
from looptrace_shared.testing import (
    bearer,
    order_envelopes,
)

pytestmark = pytest.mark.integration


auth = bearer


async def send(producer: AIOKafkaProducer, type_: str, oid: str, data: dict[str, Any]) -> None:
    value = new_envelope(type_, "test", oid, data).to_bytes()
    await producer.send_and_wait("production.events.v1", value, key=oid.encode())


async def quality_events(bootstrap: str, oid: str, want: int) -> list[dict[str, Any]]:
    return await order_envelopes(bootstrap, "quality.events.v1", oid, want, timeout_s=20)


async def test_qc_stage_to_failed_inspection_and_concession(running, kafka_bootstrap: str) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    oid, sup = str(uuid.uuid4()), f"sup-{uuid.uuid4().hex[:8]}"
    stage = {"stage_number": 7, "stage_name": "Final QC", "status": "pending",
             "planned_start": None, "planned_end": None, "qc": True}  # fmt: skip
    await send(producer, "production.stages_initialized", oid, {
        "order_id": oid, "order_number": "PO-9", "supplier_id": sup, "product_category": "knitwear",
        "target_date": str(date(2031, 1, 1)), "projected_completion": str(date(2031, 1, 1)),
        "at_risk": False, "stages": [stage], "quantity": 1000})  # fmt: skip
    await send(producer, "production.stage_completed", oid, {
        "order_id": oid, "order_number": "PO-9", "stage_number": 7, "stage_name": "Final QC",
        "completed_at": datetime.now(UTC).isoformat(), "qc": True})  # fmt: skip
    (scheduled,) = await quality_events(kafka_bootstrap, oid, 1)
    assert scheduled["type"] == "quality.inspection_scheduled"
    assert (scheduled["data"]["sample_size"], scheduled["data"]["stage_number"]) == (80, 7)
    inspection_id = scheduled["data"]["inspection_id"]

    inspector = auth(settings, "inspector")
    listed = (await http.get(f"/v1/orders/{oid}/inspections", headers=inspector)).json()["items"]
    assert [i["id"] for i in listed] == [inspection_id] and listed[0]["status"] == "scheduled"
    body = {"sample_inspected": 80, "defects": [{"defect_class": "major", "count": 6}]}
    r = await http.post(f"/v1/inspections/{inspection_id}/result", json=body, headers=inspector)
    assert r.status_code == 200 and r.json()["disposition"] == "rejected"
    assert r.json()["inspector"] == "u-1" and r.json()["dhu"] == "7.50"
    again = await http.post(f"/v1/inspections/{inspection_id}/result", json=body, headers=inspector)
    assert again.status_code == 409 and "already decided" in again.json()["detail"]

    failed = (await quality_events(kafka_bootstrap, oid, 2))[1]
    assert failed["type"] == "quality.inspection_failed"
    assert failed["data"]["defects_by_class"]["major"] == 6

    r = await http.post(f"/v1/inspections/{inspection_id}/concession", json={"reason": "buyer agreed"},
                        headers=inspector)  # fmt: skip
    assert r.status_code == 403
    r = await http.post(f"/v1/inspections/{inspection_id}/concession", json={"reason": "buyer agreed"},
                        headers=auth(settings, "admin", "boss"))  # fmt: skip
    assert r.json()["disposition"] == "accepted_with_concession"
    passed = (await quality_events(kafka_bootstrap, oid, 3))[2]
    assert passed["type"] == "quality.inspection_passed"
    assert passed["data"]["summary"].startswith(
        "Accepted with concession by admin:boss: buyer agreed"
    )

    own = await http.get(f"/v1/suppliers/{sup}/quality", headers=auth(settings, "supplier", sup))
    assert own.json() == {"supplier_id": sup, "severity": "normal", "discontinued": False,
                          "inspections_decided": 1, "pass_rate": "0.000", "dhu_trend": ["7.50"],
                          "inline_dhu_by_week": []}  # fmt: skip
    other = await http.get(
        f"/v1/inspections/{inspection_id}", headers=auth(settings, "supplier", "s-x")
    )
    assert other.status_code == 404
    buyer = await http.get(f"/v1/inspections/{inspection_id}", headers=auth(settings, "buyer"))
    assert buyer.status_code == 404  # the order has no buyer_id: no buyer sees it


async def until_known(http: httpx.AsyncClient, oid: str, headers: dict[str, str]) -> None:
    for _ in range(100):
        if (await http.get(f"/v1/orders/{oid}/inspections", headers=headers)).status_code == 200:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"order {oid} never became known to quality")


async def test_book_on_request_for_an_order_without_quantity(running) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    inspector, oid = auth(settings, "inspector"), str(uuid.uuid4())
    body = {"order_id": oid, "lot_size": 200, "stage_number": 3}
    assert (
        await http.post("/v1/inspections", json=body, headers=auth(settings, "supplier"))
    ).status_code == 403
    unknown = await http.post("/v1/inspections", json=body, headers=inspector)
    assert unknown.status_code == 404 and "not known to quality" in unknown.json()["detail"]
    await send(producer, "production.stages_initialized", oid, {
        "order_id": oid, "order_number": "PO-10", "supplier_id": "sup-q", "product_category": "denim",
        "target_date": str(date(2031, 1, 1)), "projected_completion": str(date(2031, 1, 1)),
        "at_risk": False, "stages": []})  # fmt: skip
    await until_known(http, oid, inspector)
    booked = await http.post("/v1/inspections", json=body, headers=inspector)
    assert booked.status_code == 201
    assert (booked.json()["lot_size"], booked.json()["plan"]["sample_size"]) == (200, 32)
    twice = await http.post("/v1/inspections", json=body, headers=inspector)
    assert twice.status_code == 409 and "still open" in twice.json()["detail"]


async def test_aql_plan_is_public_and_explains_bad_arguments(running) -> None:  # type: ignore[no-untyped-def]
    _, _, http = running
    ok = await http.get("/v1/aql/plan", params={"lot_size": 500, "aql": "2.5"})
    assert ok.json() == {"original_code_letter": "H", "code_letter": "H", "sample_size": 50,
                         "accept": 3, "reject": 4, "full_inspection": False}  # fmt: skip
    tight = await http.get(
        "/v1/aql/plan", params={"lot_size": 500, "aql": "2.5", "severity": "tightened"}
    )
    assert (tight.json()["accept"], tight.json()["reject"]) == (2, 3)
    bad = await http.get("/v1/aql/plan", params={"lot_size": 500, "aql": "3"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert (
        "AQL '3' is not in the ISO 2859-1 series" in bad.json()["detail"]
        and "2.5" in bad.json()["detail"]
    )
    level = await http.get("/v1/aql/plan", params={"lot_size": 500, "aql": "2.5", "level": "IV"})
    assert level.status_code == 422 and "S-1" in level.json()["detail"]
