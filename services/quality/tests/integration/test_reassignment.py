"""A reassigned order: access, open inspections and the switching rules follow the new supplier;
what was decided stays with the supplier whose goods were inspected (real broker, PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from looptrace_shared.envelope import new_envelope
from looptrace_shared.testing import (
    bearer,
    order_envelopes,
)

pytestmark = pytest.mark.integration


async def send(producer: AIOKafkaProducer, type_: str, oid: str, data: dict[str, Any]) -> None:
    value = new_envelope(type_, "test", oid, {"order_id": oid, "order_number": "PO-R", **data})
    await producer.send_and_wait("production.events.v1", value.to_bytes(), key=oid.encode())


def qc(number: int) -> dict[str, Any]:
    return {"stage_number": number, "stage_name": f"QC {number}", "status": "pending",
            "planned_start": None, "planned_end": None, "qc": True}  # fmt: skip


async def complete(producer: AIOKafkaProducer, oid: str, number: int) -> None:
    done = {"stage_number": number, "stage_name": f"QC {number}", "qc": True,
            "completed_at": datetime.now(UTC).isoformat()}  # fmt: skip
    await send(producer, "production.stage_completed", oid, done)


async def status_of(http: Any, path: str, headers: dict[str, str], want: int) -> None:
    for _ in range(150):
        if (await http.get(path, headers=headers)).status_code == want:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never answered {want}")


async def test_reassignment_moves_access_and_open_inspections(running, kafka_bootstrap) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    oid, run = str(uuid.uuid4()), uuid.uuid4().hex[:6]
    old, new = f"y-{run}", f"x-{run}"
    await send(producer, "production.stages_initialized", oid, {
        "supplier_id": old, "product_category": "cut-and-sew", "quantity": 500,
        "target_date": str(date(2031, 1, 1)), "projected_completion": str(date(2031, 1, 1)),
        "at_risk": False, "stages": [qc(8), qc(9)]})  # fmt: skip
    await complete(producer, oid, 8)
    (first,) = await order_envelopes(kafka_bootstrap, "quality.events.v1", oid, 1)
    inspector = bearer(settings, "inspector")
    body = {"sample_inspected": 50, "defects": []}
    first_id = first["data"]["inspection_id"]
    r = await http.post(f"/v1/inspections/{first_id}/result", json=body, headers=inspector)
    assert r.json()["disposition"] == "accepted"
    await complete(producer, oid, 9)
    found = await order_envelopes(kafka_bootstrap, "quality.events.v1", oid, 3)
    open_id = found[2]["data"]["inspection_id"]
    was, now = bearer(settings, "supplier", old), bearer(settings, "supplier", new)
    assert (await http.get(f"/v1/orders/{oid}/inspections", headers=was)).status_code == 200

    await send(producer, "production.supplier_reassigned", oid, {
        "previous_supplier_id": old, "supplier_id": new, "supplier_name": "X Knit",
        "reassigned_at": datetime.now(UTC).isoformat()})  # fmt: skip
    await status_of(http, f"/v1/orders/{oid}/inspections", now, 200)
    assert (await http.get(f"/v1/orders/{oid}/inspections", headers=was)).status_code == 404
    assert (await http.get(f"/v1/inspections/{open_id}", headers=was)).status_code == 404
    staff = bearer(settings, "admin", "ops")
    by_id = {
        i["id"]: i
        for i in (await http.get(f"/v1/orders/{oid}/inspections", headers=staff)).json()["items"]
    }
    assert by_id[first_id]["supplier_id"] == old  # done by the old supplier: stays theirs
    assert by_id[open_id]["supplier_id"] == new

    r = await http.post(f"/v1/inspections/{open_id}/result", json=body, headers=inspector)
    assert r.status_code == 200
    mine = (await http.get(f"/v1/suppliers/{new}/quality", headers=now)).json()
    theirs = (await http.get(f"/v1/suppliers/{old}/quality", headers=was)).json()
    assert (mine["inspections_decided"], theirs["inspections_decided"]) == (1, 1)
    scheduled = await order_envelopes(kafka_bootstrap, "quality.events.v1", oid, 4)
    assert scheduled[3]["data"]["supplier_id"] == new
