"""Workflow integrity across the five services, from outside (Kafka as the upstream system and
the supplier integration, HTTP for the rest): no order ships uninspected, a failed inspection
moves every service, a reassignment is heard everywhere, mails say which inspection passed
and their links open the order's timeline."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from looptrace_shared.auth import mint_token
from looptrace_shared.settings import DEV_JWT_SECRET
from looptrace_shared.system import System

from ..conftest import admin_token, envelope

pytestmark = pytest.mark.e2e


def bearer(role: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, role, subject)}"}


ADMIN = {"Authorization": f"Bearer {admin_token()}"}


class Outside:
    """The upstream system, the supplier integration and the inspector, as outsiders."""

    def __init__(self, system: System, producer: AIOKafkaProducer, oid: str) -> None:
        self.system, self.producer, self.oid = system, producer, oid
        self.buyer = f"buyer-{oid[:6]}"
        self.clock = datetime.now(UTC) - timedelta(hours=3)

    async def send(self, topic: str, type_: str, data: dict[str, Any]) -> None:
        value = envelope(type_, self.oid, {"order_id": self.oid, **data})
        await self.producer.send_and_wait(topic, value, key=self.oid.encode())

    async def place(self, category: str, email: str) -> None:
        await self.send("orders.inbound.v1", "OrderPlaced", {
            "order_number": f"PO-{self.oid[:8]}", "product_type": "sweater",
            "buyer": {"id": self.buyer, "name": "Ada", "email": email},
            "product_category": category, "quantity": 500, "currency": "EUR",
            "unit_price": "12.50", "target_date": str(date.today() + timedelta(days=120)),
            "has_print": False,
        })  # fmt: skip

    async def report(self, stage: int, pct: float, now: bool = False) -> None:
        self.clock = max(self.clock + timedelta(seconds=1), datetime.now(UTC)) if now else (
            self.clock + timedelta(seconds=1)
        )  # fmt: skip
        data = {"stage": stage, "percentage": pct, "reported_at": self.clock.isoformat()}
        await self.send("production.progress.v1", "ProgressReported", data)

    async def result(self, inspection: dict[str, Any], major: int) -> None:
        await self.send("quality.inbound.v1", "InspectionResultSubmitted", {
            "inspection_id": inspection["inspection_id"], "inspector": "QC Partner Ltd",
            "sample_inspected": inspection["sample_size"],
            "defects": [{"defect_class": "major", "count": major}],
        })  # fmt: skip

    async def get(self, service: str, path: str, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.system.url(service)) as http:
            return await http.get(path, headers=headers)

    async def until(self, service: str, path: str, check: Any, headers: Any = None) -> Any:
        deadline, body = asyncio.get_running_loop().time() + 45, None
        while asyncio.get_running_loop().time() < deadline:
            r = await self.get(service, path, headers or ADMIN)
            body = r.json() if r.status_code == 200 else None
            if body is not None and check(body):
                return body
            await asyncio.sleep(0.3)
        raise AssertionError(f"{service} {path}: condition not met; last {str(body)[:1500]}")

    async def history(self) -> list[str]:
        hist = await self.until("orders", f"/v1/orders/{self.oid}/history", bool)
        return [h["to_status"] for h in hist]


def about(oid: str, type_: str, **fields: Any):  # type: ignore[no-untyped-def]
    return lambda h, v: (
        isinstance(v, dict) and v.get("subject") == oid and v.get("type") == type_
        and all(v["data"].get(k) == want for k, want in fields.items())
    )  # fmt: skip


async def mails_of(inbox: Any, email: str, kind: str, n: int = 1) -> list[dict[str, Any]]:
    for _ in range(150):
        found = [m for m in inbox.to(email) if m["headers"].get("X-LoopTrace-Notification") == kind]
        if len(found) >= n:
            return found  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {kind} mail to {email}")


async def test_no_order_ships_uninspected_and_a_failure_moves_every_service(
    system, producer, topics, smtp
) -> None:  # type: ignore[no-untyped-def]
    inbox, _ = smtp
    oid = str(uuid.uuid4())
    out, email = Outside(system, producer, oid), f"ada+{oid[:6]}@buyer.example"
    quality, production = await topics("quality.events.v1"), await topics("production.events.v1")
    refused = await topics("production.progress.v1.dlq")
    await out.place("knitwear", email)
    supplier = {"id": f"sup-{oid[:6]}", "name": "Knit Co", "email": "ops@knit.example"}
    await out.send("orders.inbound.v1", "SupplierAssigned", {"supplier": supplier})
    await production.wait_for(about(oid, "production.stages_initialized"), what="plan")
    for stage in (1, 2, 3, 4, 5):
        await out.report(stage, 100)
    _, first = await quality.wait_for(about(oid, "quality.inspection_scheduled"), what="booking")
    await out.report(6, 50)  # packing may go on while Final QC is open…
    for stage in (6, 7, 8):  # …but nothing completes, nothing ships
        await out.report(stage, 100)
    headers, _ = await refused.wait_for(
        lambda h, v: isinstance(v, dict) and v.get("subject") == oid
        and h.get("rule") == "qc_gate_closed",
        what="qc gate refusal",
    )  # fmt: skip
    assert "stage 6 (Packing) cannot complete" in headers["error"]
    line = await out.until("production", f"/v1/orders/{oid}/timeline", lambda t: True)
    assert line["qc_gate_passed"] is False and line["stages"][5]["percentage"] == 50
    assert "shipped" not in await out.history()

    await out.result(first["data"], major=30)  # the lot fails
    await out.until(
        "orders", f"/v1/orders/{oid}", lambda o: o["workflow_status"] == "in_production"
    )
    line = await out.until(
        "production", f"/v1/orders/{oid}/timeline",
        lambda t: t["stages"][3]["status"] == "in_progress" and t["stages"][4]["status"] == "pending",
    )  # fmt: skip
    assert line["stages"][3]["delay_reason"] == "quality_rework"
    for stage in (4, 5):  # the rework, then Final QC again: quality books the re-inspection
        await out.report(stage, 100, now=True)
    _, again = await quality.wait_for(about(oid, "quality.inspection_scheduled", round=2))
    assert again["data"]["reinspection_of"] == first["data"]["inspection_id"]
    await out.result(again["data"], major=0)
    await production.wait_for(about(oid, "production.quality_gate_passed"), what="gate")
    for stage in (6, 7, 8):
        await out.report(stage, 100, now=True)
    await out.until("orders", f"/v1/orders/{oid}", lambda o: o["workflow_status"] == "shipped")
    assert await out.history() == [
        "placed", "assigned_to_supplier", "in_production", "quality_check", "in_production",
        "quality_check", "shipped",
    ]  # fmt: skip

    (passed,) = await mails_of(inbox, email, "inspection_passed")
    assert passed["subject"] == f"Order PO-{oid[:8]}: Final inspection at stage 5 (Final QC) passed"
    assert "re-inspection (round 2)" in passed["body"]
    await mails_of(inbox, email, "order_shipped")
    link = re.search(r"Timeline: (\S+)", passed["body"])
    assert link, passed["body"]
    async with httpx.AsyncClient() as http:  # the link opens the order's timeline
        opened = await http.get(link.group(1), headers=bearer("buyer", out.buyer))
    assert opened.status_code == 200 and opened.json()["order_id"] == oid
    assert opened.json()["qc_gate_passed"] is True


async def test_a_reassignment_is_heard_by_every_service(system, producer, topics) -> None:  # type: ignore[no-untyped-def]
    oid = str(uuid.uuid4())
    out = Outside(system, producer, oid)
    quality, producer_events = (
        await topics("quality.events.v1"),
        await topics("production.events.v1"),
    )
    await out.place("cut-and-sew", f"b+{oid[:6]}@buyer.example")
    await out.until("orders", f"/v1/orders/{oid}", lambda o: o["workflow_status"] == "placed")
    old, new = f"y-{oid[:6]}", f"x-{oid[:6]}"
    async with httpx.AsyncClient(base_url=system.url("orders")) as http:
        r = await http.post(f"/v1/orders/{oid}/assign", json={"supplier": {"id": old, "name": "Y"}},
                            headers=ADMIN)  # fmt: skip
        assert r.status_code == 200, r.text
        await out.until("production", f"/v1/orders/{oid}/timeline", bool, bearer("supplier", old))
        was, now = bearer("supplier", old), bearer("supplier", new)
        await out.until("quality", f"/v1/orders/{oid}/inspections", lambda b: True, was)
        r = await http.post(f"/v1/orders/{oid}/assign", json={"supplier": {"id": new, "name": "X"}},
                            headers=ADMIN)  # fmt: skip
        assert r.status_code == 200, r.text
    await producer_events.wait_for(about(oid, "production.supplier_reassigned"), what="moved")
    for stage in (1, 2, 3, 4, 6, 7, 8):  # the new supplier makes it; quality books for them
        await out.report(stage, 100)
    await quality.wait_for(about(oid, "quality.inspection_scheduled", supplier_id=new))

    items = await out.until("quality", f"/v1/orders/{oid}/inspections", bool, now)
    assert [i["supplier_id"] for i in items["items"]] == [new]
    await out.until("production", f"/v1/orders/{oid}/timeline", bool, now)
    await out.until("predictions", f"/v1/orders/{oid}/risk", bool, now)
    await out.until("notifications", f"/v1/orders/{oid}/messages", lambda b: True, now)
    for service, path in (
        ("quality", f"/v1/orders/{oid}/inspections"),
        ("production", f"/v1/orders/{oid}/timeline"),
        ("predictions", f"/v1/orders/{oid}/risk"),
    ):
        assert (await out.get(service, path, was)).status_code == 404, service
    assert (await out.get("notifications", f"/v1/orders/{oid}/messages", was)).status_code in (
        403,
        404,
    )
