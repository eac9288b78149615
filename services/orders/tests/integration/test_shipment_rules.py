"""Shipments only where goods exist, and only past the QC gate (HTTP, real broker and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from looptrace_orders.app import create_app
from looptrace_orders.config import OrdersSettings
from looptrace_shared.envelope import new_envelope
from looptrace_shared.testing import bearer, broker_settings, eventually, serving

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def api(database_url: str, kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    settings = OrdersSettings(**broker_settings(database_url, kafka_bootstrap))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    async with serving(create_app(settings)) as http:
        yield settings, http, producer
    await producer.stop()


async def fact(producer: AIOKafkaProducer, type_: str, oid: str, data: dict[str, Any]) -> None:
    topic = "quality.events.v1" if type_.startswith("quality.") else "production.events.v1"
    body = {"order_id": oid, "order_number": "x", **data}
    env = new_envelope(type_, "test", oid, body)
    await producer.send_and_wait(topic, env.to_bytes(), key=oid.encode())


async def assigned_order(api: Any) -> tuple[str, dict[str, str]]:
    settings, http, _ = api
    oid, admin = str(uuid.uuid4()), bearer(settings, "admin", "ops")
    body = {
        "order_id": oid,
        "order_number": f"PO-{oid[:10]}",
        "buyer": {"id": "b-1", "name": "B"},
        "product_type": "tee",
        "product_category": "knitwear",
        "quantity": 100,
        "currency": "EUR",
        "unit_price": "3.50",
        "target_date": str(date.today() + timedelta(days=60)),
    }
    assert (await http.post("/v1/orders", json=body, headers=admin)).status_code == 201
    r = await http.post(
        f"/v1/orders/{oid}/assign", json={"supplier": {"id": "s-1", "name": "S"}}, headers=admin
    )
    assert r.status_code == 200, r.text
    return oid, admin


def shipment(qty: int) -> dict[str, Any]:
    return {"carrier": "DHL", "tracking_number": f"T{qty}", "quantity_shipped": qty}


async def test_a_partial_shipment_before_production_is_refused(api) -> None:  # type: ignore[no-untyped-def]
    _, http, _ = api
    oid, admin = await assigned_order(api)
    for qty in (10, 100):  # partial and full alike
        r = await http.post(f"/v1/orders/{oid}/shipments", json=shipment(qty), headers=admin)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "'assigned_to_supplier'" in r.json()["detail"]
        assert r.json()["rule"] == "shipment_not_allowed"
    order = (await http.get(f"/v1/orders/{oid}", headers=admin)).json()
    assert order["workflow_status"] == "assigned_to_supplier"


async def test_shipments_wait_for_the_qc_gate(api) -> None:  # type: ignore[no-untyped-def]
    _, http, producer = api
    oid, admin = await assigned_order(api)
    now = datetime.now(UTC).isoformat()
    booked = {"inspection_id": "i-1", "lot_size": 100, "sample_size": 20, "severity": "normal"}
    await fact(producer, "quality.inspection_scheduled", oid, {**booked, "plans": []})

    async def state() -> dict[str, Any]:
        return (await http.get(f"/v1/orders/{oid}", headers=admin)).json()  # type: ignore[no-any-return]

    await eventually(lambda: _is(state, "quality_check"))
    r = await http.post(f"/v1/orders/{oid}/shipments", json=shipment(10), headers=admin)
    assert r.status_code == 409 and "not every inspection has passed" in r.json()["detail"]
    assert r.json()["rule"] == "qc_gate_closed"

    gate = {"inspection_ids": ["i-1"], "passed_at": now}
    await fact(producer, "production.quality_gate_passed", oid, gate)
    await eventually(lambda: _gate(state))
    r = await http.post(f"/v1/orders/{oid}/shipments", json=shipment(10), headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["workflow_status"] == "quality_check"  # partial: still at the factory
    r = await http.post(f"/v1/orders/{oid}/shipments", json=shipment(90), headers=admin)
    assert r.status_code == 200 and r.json()["workflow_status"] == "shipped"


async def test_an_inspection_booked_after_the_gate_closes_it_again(api) -> None:  # type: ignore[no-untyped-def]
    _, http, producer = api
    oid, admin = await assigned_order(api)
    now = datetime.now(UTC).isoformat()
    booked = {"lot_size": 100, "sample_size": 20, "severity": "normal", "plans": []}
    await fact(producer, "quality.inspection_scheduled", oid, {**booked, "inspection_id": "i-1"})
    gate = {"inspection_ids": ["i-1"], "passed_at": now}
    await fact(producer, "production.quality_gate_passed", oid, gate)

    async def state() -> dict[str, Any]:
        return (await http.get(f"/v1/orders/{oid}", headers=admin)).json()  # type: ignore[no-any-return]

    await eventually(lambda: _gate(state))
    await fact(producer, "quality.inspection_scheduled", oid, {**booked, "inspection_id": "i-2"})
    await eventually(lambda: _gate(state, False))
    r = await http.post(f"/v1/orders/{oid}/shipments", json=shipment(10), headers=admin)
    assert r.status_code == 409


async def _is(state: Any, status: str) -> bool:
    return (await state())["workflow_status"] == status  # type: ignore[no-any-return]


async def _gate(state: Any, passed: bool = True) -> bool:
    return (await state())["qc_gate_passed"] is passed  # type: ignore[no-any-return]
