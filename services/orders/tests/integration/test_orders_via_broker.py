"""Upstream messages drive an order through the workflow, over the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from looptrace_orders.app import create_app
from looptrace_orders.config import OrdersSettings
from looptrace_shared.auth import mint_token
from looptrace_shared.envelope import new_envelope
from looptrace_shared.testing import broker_settings, running_service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def running(database_url: str, kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    settings = OrdersSettings(**broker_settings(database_url, kafka_bootstrap))
    async with running_service(create_app, settings) as up:
        yield up


def placed(order_id: str, **over: Any) -> dict[str, Any]:
    data = {
        "order_id": order_id,
        "order_number": f"PO-{order_id[:8]}",
        "buyer": {"id": "b-1", "name": "Buyer", "email": "b@x.example"},
        "product_type": "tee",
        "product_category": "cut-and-sew",
        "quantity": 100,
        "currency": "USD",
        "unit_price": "4.20",
        "supplier_cost": "3.00",
        "target_date": str(date.today() + timedelta(days=60)),
    }
    return {**data, **over}


async def send(
    producer: AIOKafkaProducer,
    type_: str,
    order_id: str,
    data: dict[str, Any],
    topic: str = "orders.inbound.v1",
) -> None:
    await producer.send_and_wait(
        topic, new_envelope(type_, "test", order_id, data).to_bytes(), key=order_id.encode()
    )


async def until(
    http: httpx.AsyncClient, path: str, check: Any, token: str, timeout: float = 45
) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    body = None
    while asyncio.get_running_loop().time() < deadline:
        r = await http.get(path, headers={"Authorization": f"Bearer {token}"})
        body = r.json()
        if r.status_code == 200 and check(body):
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path}: condition not met; last {body}")


async def refused(kafka_bootstrap: str, oid: str, words: str) -> None:
    """Wait until a message of order ``oid`` was dead-lettered with ``words`` in its error."""
    consumer = AIOKafkaConsumer(
        "orders.inbound.v1.dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    error = dict(r.headers).get("error", b"").decode()
                    if json.loads(r.value).get("subject") == oid and words in error:
                        return
    finally:
        await consumer.stop()
    raise AssertionError(f"no dead letter of order {oid} saying {words!r}")


async def test_workflow_with_qc_failure_loop_and_delay_recovery(running, kafka_bootstrap) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    admin = mint_token(settings.jwt_secret, "admin", "ops")
    oid = str(uuid.uuid4())
    await send(producer, "OrderPlaced", oid, placed(oid))
    await send(producer, "OrderPlaced", oid, placed(oid))  # the same order twice: one order
    await send(
        producer,
        "SupplierAssigned",
        oid,
        {"order_id": oid, "supplier": {"id": "s-1", "name": "Sew"}},
    )
    await until(http, f"/v1/orders/{oid}/history", lambda b: len(b) == 2, admin, timeout=30)
    ref = {"order_id": oid, "order_number": "x", "stage_number": 1, "stage_name": "Cutting"}
    now = datetime.now(UTC).isoformat()
    facts = [
        (
            "production.stage_started",
            "production.events.v1",
            {**ref, "started_at": now, "first_stage": True},
        ),
        (
            "production.stage_delayed",
            "production.events.v1",
            {**ref, "days_late": 2, "forecast_end": str(date.today())},
        ),
        (
            "production.plan_reforecast",
            "production.events.v1",
            {
                "order_id": oid,
                "order_number": "x",
                "projected_completion": str(date.today()),
                "previous_projected_completion": str(date.today()),
                "target_date": str(date.today() + timedelta(days=60)),
                "slip_days": 0,
            },
        ),
    ]
    inspection = {
        "order_id": oid,
        "order_number": "x",
        "inspection_id": "i1",
        "lot_size": 100,
        "sample_size": 20,
        "severity": "normal",
        "plans": [],
    }
    outcome = {
        "order_id": oid,
        "order_number": "x",
        "inspection_id": "i1",
        "sample_inspected": 20,
        "defects_by_class": {"major": 3},
        "summary": "3 major defects (Ac 1)",
    }
    facts += [
        ("quality.inspection_scheduled", "quality.events.v1", inspection),
        ("quality.inspection_failed", "quality.events.v1", outcome),
        (
            "quality.inspection_scheduled",
            "quality.events.v1",
            {**inspection, "inspection_id": "i2"},
        ),
    ]
    # topics are ordered per partition, not across topics: wait for each topic's facts to land
    for n, (type_, topic, data) in enumerate(facts, start=3):
        await send(producer, type_, oid, data, topic)
        await until(
            http, f"/v1/orders/{oid}/history", lambda b, n=n: len(b) == n, admin, timeout=45
        )
    shipment = {
        "order_id": oid,
        "carrier": "DHL",
        "tracking_number": "T0",
        "quantity_shipped": 10,
        "shipped_at": now,
    }
    await send(producer, "OrderShipped", oid, shipment)  # before the QC gate: refused
    # the gate comes on another topic: only once the shipment was refused may it open
    await refused(kafka_bootstrap, oid, "cannot ship yet")
    gate = {"order_id": oid, "order_number": "x", "inspection_ids": ["i2"], "passed_at": now}
    await send(producer, "production.quality_gate_passed", oid, gate, "production.events.v1")
    await until(http, f"/v1/orders/{oid}", lambda b: b["qc_gate_passed"], admin)
    await send(
        producer,
        "OrderShipped",
        oid,
        {
            "order_id": oid,
            "carrier": "DHL",
            "tracking_number": "T1",
            "quantity_shipped": 40,
            "shipped_at": now,
        },
    )
    await send(
        producer,
        "OrderShipped",
        oid,
        {
            "order_id": oid,
            "carrier": "DHL",
            "tracking_number": "T2",
            "quantity_shipped": 60,
            "shipped_at": now,
        },
    )
    await send(producer, "DeliveryConfirmed", oid, {"order_id": oid, "delivered_at": now})

    hist = await until(
        http, f"/v1/orders/{oid}/history", lambda b: b[-1]["to_status"] == "completed", admin
    )
    assert [h["to_status"] for h in hist] == [
        "placed",
        "assigned_to_supplier",
        "in_production",
        "delayed",
        "in_production",
        "quality_check",
        "in_production",
        "quality_check",
        "shipped",
        "delivered",
        "completed",
    ]
    assert all(h["cause"].startswith("event:") for h in hist)
    order = (
        await http.get(f"/v1/orders/{oid}", headers={"Authorization": f"Bearer {admin}"})
    ).json()
    assert order["status"] == "completed" and order["margin"] == "120.0000"


async def test_invalid_transition_and_bad_fields_are_dead_lettered(
    running, kafka_bootstrap: str
) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    oid = str(uuid.uuid4())
    await send(producer, "OrderPlaced", oid, placed(oid, currency="XXQ"))
    await send(producer, "OrderPlaced", oid, placed(oid, quantity=-5))
    oid2 = str(uuid.uuid4())
    await send(producer, "OrderPlaced", oid2, placed(oid2))
    await send(
        producer,
        "DeliveryConfirmed",
        oid2,
        {"order_id": oid2, "delivered_at": datetime.now(UTC).isoformat()},
    )
    admin = mint_token(settings.jwt_secret, "admin", "ops")
    await until(http, f"/v1/orders/{oid2}", lambda b: b["workflow_status"] == "placed", admin)

    consumer = AIOKafkaConsumer(
        "orders.inbound.v1.dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    reasons: dict[str, str] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while len(reasons) < 3 and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    subject = json.loads(r.value).get("subject")
                    if subject in (oid, oid2):
                        h = {k: v.decode() for k, v in r.headers}
                        reasons[h["rule"]] = h["error"]
    finally:
        await consumer.stop()
    assert "XXQ" in reasons["unknown_currency"]
    assert "data.quantity" in reasons["invalid_payload"]
    assert "cannot move to 'delivered'" in reasons["invalid_transition"]
    assert "Allowed next" in reasons["invalid_transition"]


async def test_assignment_before_the_order_waits_for_it(running) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    admin = mint_token(settings.jwt_secret, "admin", "ops")
    oid = str(uuid.uuid4())
    await send(
        producer,
        "SupplierAssigned",
        oid,
        {"order_id": oid, "supplier": {"id": "s-9", "name": "Early"}},
    )
    await asyncio.sleep(1.0)  # it is parked, not lost
    await send(producer, "OrderPlaced", oid, placed(oid))
    hist = await until(http, f"/v1/orders/{oid}/history", lambda b: len(b) == 2, admin)
    assert [h["to_status"] for h in hist] == ["placed", "assigned_to_supplier"]
    order = (
        await http.get(f"/v1/orders/{oid}", headers={"Authorization": f"Bearer {admin}"})
    ).json()
    assert order["supplier"]["id"] == "s-9"


async def test_unbounded_fields_on_kafka_are_dead_lettered_naming_the_field(
    running, kafka_bootstrap: str
) -> None:  # type: ignore[no-untyped-def]
    """The HTTP bounds hold on the wire too: what the database could not hold is refused by
    the payload's schema (a dead letter naming the field), never a database error, and the
    partition keeps flowing past it."""
    settings, producer, http = running
    bad = {
        "data.product_type": {"product_type": "x" * 10_000},
        "data.order_number": {"order_number": "PO-\x00-1"},
        "data.quantity": {"quantity": 2**40},
    }
    sent: dict[str, str] = {}
    for field, over in bad.items():
        oid = str(uuid.uuid4())
        sent[oid] = field
        await send(producer, "OrderPlaced", oid, {**placed(oid), **over})
    good = str(uuid.uuid4())
    await send(producer, "OrderPlaced", good, placed(good))
    admin = mint_token(settings.jwt_secret, "admin", "ops")
    await until(http, f"/v1/orders/{good}", lambda b: b["workflow_status"] == "placed", admin)

    consumer = AIOKafkaConsumer(
        "orders.inbound.v1.dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: dict[str, dict[str, str]] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while len(found) < len(sent) and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    subject = json.loads(r.value).get("subject")
                    if subject in sent:
                        found[subject] = {k: v.decode() for k, v in r.headers}
    finally:
        await consumer.stop()
    assert set(found) == set(sent), "every unbounded message must be dead-lettered"
    for oid, field in sent.items():
        assert found[oid]["rule"] == "invalid_payload", found[oid]
        assert field in found[oid]["error"], (field, found[oid]["error"])
        r = await http.get(f"/v1/orders/{oid}", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 404  # nothing half-written


async def test_an_assignment_warning_from_production_shows_in_the_history(running) -> None:  # type: ignore[no-untyped-def]
    settings, producer, http = running
    admin = mint_token(settings.jwt_secret, "admin", "ops")
    oid = str(uuid.uuid4())
    await send(producer, "OrderPlaced", oid, placed(oid))
    await until(http, f"/v1/orders/{oid}/history", lambda b: len(b) == 1, admin)
    warned = {
        "order_id": oid,
        "order_number": f"PO-{oid[:8]}",
        "supplier_id": "s-9",
        "assigned_by": "ops",
        "warnings": ["supplier s-9 has no recorded capability for cut-and-sew"],
    }
    await send(producer, "production.assignment_warned", oid, warned, "production.events.v1")
    hist = await until(http, f"/v1/orders/{oid}/history", lambda b: len(b) == 2, admin)
    entry = hist[1]
    assert entry["from_status"] == entry["to_status"] == "placed"
    assert entry["cause"].startswith("event:production.assignment_warned:")
    assert entry["reason"] == (
        "assignment to s-9 warned: supplier s-9 has no recorded capability for cut-and-sew"
    )
