"""One order end to end, driven only through Kafka and HTTP, the way outside systems would."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from looptrace_shared.system import System

from ..conftest import PARKING_TIMEOUT_S, admin_token, envelope

pytestmark = pytest.mark.e2e


def order_placed(order_id: str, buyer_email: str) -> bytes:
    return envelope(
        "OrderPlaced",
        order_id,
        {
            "order_id": order_id,
            "order_number": f"PO-{order_id[:8]}",
            "buyer": {
                "id": "buyer-1",
                "name": "Ada Buyer",
                "email": buyer_email,
                "company": "Ada Ltd",
            },
            "product_type": "sweater",
            "product_category": "knitwear",
            "style": "crew neck",
            "quantity": 500,
            "currency": "EUR",
            "unit_price": "12.50",
            "supplier_cost": "8.00",
            "target_date": str(date.today() + timedelta(days=90)),
        },
    )


async def history(system: System, order_id: str) -> list[str]:
    async with httpx.AsyncClient(base_url=system.url("orders")) as http:
        r = await http.get(
            f"/v1/orders/{order_id}/history", headers={"Authorization": f"Bearer {admin_token()}"}
        )
    return [h["to_status"] for h in r.json()] if r.status_code == 200 else []


async def wait_status(system: System, order_id: str, status: str, timeout: float = 40) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    seen: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        seen = await history(system, order_id)
        if status in seen:
            return seen
        await asyncio.sleep(0.3)
    raise AssertionError(f"order {order_id} never reached {status}; history: {seen}")


def about(order_id: str, type_: str):  # type: ignore[no-untyped-def]
    return lambda h, v: (
        isinstance(v, dict) and v.get("subject") == order_id and v.get("type") == type_
    )


async def test_one_order_end_to_end(system, producer, topics, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, _ = smtp
    order_id = str(uuid.uuid4())
    buyer_email = f"ada+{order_id[:6]}@buyer.example"
    production = await topics("production.events.v1")
    quality = await topics("quality.events.v1")
    alerts = await topics("predictions.alerts.v1")
    order_events = await topics("orders.events.v1")
    outbound = await topics("notifications.outbound.v1")

    await producer.send_and_wait(
        "orders.inbound.v1", order_placed(order_id, buyer_email), key=order_id.encode()
    )
    await wait_status(system, order_id, "placed")
    await producer.send_and_wait(
        "orders.inbound.v1",
        envelope(
            "SupplierAssigned",
            order_id,
            {
                "order_id": order_id,
                "supplier": {"id": "sup-7", "name": "Knit Co", "email": "ops@knit.example"},
            },
        ),
        key=order_id.encode(),
    )

    _, init = await production.wait_for(
        about(order_id, "production.stages_initialized"), what="stages_initialized"
    )
    stages = init["data"]["stages"]
    assert [s["stage_name"] for s in stages][:2] == ["Yarn Received", "Knitting"]
    assert len(stages) == 8

    for stage in stages:
        for pct in (50, 100):
            await producer.send_and_wait(
                "production.progress.v1",
                envelope(
                    "ProgressReported",
                    order_id,
                    {
                        "order_id": order_id,
                        "stage": stage["stage_number"],
                        "percentage": pct,
                        "reported_at": datetime.now(UTC).isoformat(),
                        "notes": f"{stage['stage_name']} at {pct}%",
                    },
                ),
                key=order_id.encode(),
            )
        if stage["qc"]:
            _, scheduled = await quality.wait_for(
                about(order_id, "quality.inspection_scheduled"), what="inspection"
            )
            await producer.send_and_wait(
                "quality.inbound.v1",
                envelope(
                    "InspectionResultSubmitted",
                    order_id,
                    {
                        "order_id": order_id,
                        "inspection_id": scheduled["data"]["inspection_id"],
                        "inspector": "QC Partner Ltd",
                        "sample_inspected": scheduled["data"]["sample_size"],
                        "defects": [{"defect_class": "minor", "count": 1}],
                    },
                ),
                key=order_id.encode(),
            )
            await quality.wait_for(
                about(order_id, "quality.inspection_passed"), what="inspection_passed"
            )
            await production.wait_for(  # the QC gate: later stages complete after this
                about(order_id, "production.quality_gate_passed"), what="quality gate passed"
            )

    await wait_status(system, order_id, "shipped")
    await producer.send_and_wait(
        "orders.inbound.v1",
        envelope(
            "DeliveryConfirmed",
            order_id,
            {
                "order_id": order_id,
                "delivered_at": datetime.now(UTC).isoformat(),
            },
        ),
        key=order_id.encode(),
    )
    steps = await wait_status(system, order_id, "completed")
    assert steps == [
        "placed",
        "assigned_to_supplier",
        "in_production",
        "quality_check",
        "shipped",
        "delivered",
        "completed",
    ]

    _, alert = await alerts.wait_for(about(order_id, "predictions.delay_risk"), what="delay risk")
    assert alert["data"]["risk_level"] in ("low", "medium", "high")
    await order_events.wait_for(about(order_id, "order.status_changed"), what="status change")

    wanted = {"order_confirmed", "production_started", "inspection_passed", "order_shipped"}
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        kinds = [m["headers"].get("X-LoopTrace-Notification") for m in inbox.to(buyer_email)]
        if wanted <= set(kinds):
            break
        await asyncio.sleep(0.3)
    await asyncio.sleep(2)  # anything doubled would arrive by now
    await outbound.wait_for(
        about(order_id, "notifications.notification_sent"), what="notification_sent"
    )
    kinds = [m["headers"].get("X-LoopTrace-Notification") for m in inbox.to(buyer_email)]
    for kind in wanted:
        assert kinds.count(kind) == 1, f"{kind}: {kinds}"


async def test_bad_messages_reach_the_dead_letters_and_the_partition_flows(
    system, producer, topics
) -> None:  # type: ignore[no-untyped-def]
    dlq = await topics("orders.inbound.v1.dlq")
    ghost = f"ghost-{uuid.uuid4()}"
    key = ghost.encode()  # same key → same partition as what follows
    await producer.send_off_contract_and_wait("orders.inbound.v1", b'{"id": "not-an-envelope', key)
    await producer.send_and_wait(
        "orders.inbound.v1",
        envelope(
            "SupplierAssigned",
            ghost,
            {
                "order_id": ghost,
                "supplier": {"id": "sup-1", "name": "Nobody"},
            },
        ),
        key=key,
    )
    good = str(uuid.uuid4())
    await producer.send_off_contract_and_wait(  # the ghost's key: the same partition
        "orders.inbound.v1", order_placed(good, "x@buyer.example"), key
    )
    await wait_status(system, good, "placed", timeout=20)

    headers, value = await dlq.wait_for(
        lambda h, v: h.get("rule") == "malformed_json" and b"not-an-envelope" in v,
        what="malformed dead letter",
    )  # noqa: E501
    assert headers["original_topic"] == "orders.inbound.v1"
    assert headers["consumer_group"] == "orders"
    headers, value = await dlq.wait_for(
        lambda h, v: isinstance(v, dict) and v.get("subject") == ghost,
        timeout=PARKING_TIMEOUT_S + 20,
        what="parked message timing out",
    )
    assert headers["rule"] == "parking_timeout"
    assert f"order {ghost} is not known yet" in headers["error"]
