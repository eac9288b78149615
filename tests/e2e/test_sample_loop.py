"""The sample loop end to end, the way buyers, suppliers and their systems drive it: the order
through orders' inbound topic, the loop over production's HTTP API, progress over Kafka, and
the mails at the SMTP sink. Request → submit → reject → resubmit → approve; bulk production
is refused (dead letter with its rule) until the pre-production sample is approved."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from looptrace_shared.auth import mint_token
from looptrace_shared.settings import DEV_JWT_SECRET

from ..conftest import envelope
from .test_order_flow import about, order_placed, wait_status

pytestmark = pytest.mark.e2e

BUYER, SUPPLIER = "buyer-1", "sup-samples"


def auth(role: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, role, subject)}"}


def day(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def progress(order_id: str, stage: int, pct: float) -> bytes:
    data = {"order_id": order_id, "stage": stage, "percentage": pct,
            "reported_at": datetime.now(UTC).isoformat()}  # fmt: skip
    return envelope("ProgressReported", order_id, data)


async def mails(inbox: Any, address: str, kind: str, count: int, timeout: float = 40) -> list[Any]:
    """The mails of notification ``kind`` to ``address``, once ``count`` of them arrived."""
    deadline = asyncio.get_running_loop().time() + timeout
    found: list[Any] = []
    while asyncio.get_running_loop().time() < deadline:
        found = [
            m for m in inbox.to(address) if m["headers"].get("X-LoopTrace-Notification") == kind
        ]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.3)
    kinds = [m["headers"].get("X-LoopTrace-Notification") for m in inbox.to(address)]
    raise AssertionError(f"{count} {kind} mail(s) to {address} never arrived; got {kinds}")


async def test_sample_loop_with_mails_and_the_pp_gate(system, producer, topics, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, _ = smtp
    oid = str(uuid.uuid4())
    buyer_mail, supplier_mail = f"ada+{oid[:6]}@buyer.example", f"ops+{oid[:6]}@knit.example"
    production, dead = (
        await topics("production.events.v1"),
        await topics("production.progress.v1.dlq"),
    )
    key = oid.encode()
    await producer.send_and_wait("orders.inbound.v1", order_placed(oid, buyer_mail), key=key)
    await wait_status(system, oid, "placed")
    supplier = {"id": SUPPLIER, "name": "Knit Co", "email": supplier_mail}
    assigned = envelope("SupplierAssigned", oid, {"order_id": oid, "supplier": supplier})
    await producer.send_and_wait("orders.inbound.v1", assigned, key=key)
    await production.wait_for(about(oid, "production.stages_initialized"), what="plan")

    async with httpx.AsyncClient(base_url=system.url("production"), timeout=30) as http:
        samples = f"/v1/orders/{oid}/samples"
        r = await http.post(samples, json={"kind": "pre_production", "due_date": day(7)},
                            headers=auth("buyer", BUYER))  # fmt: skip
        assert r.status_code == 201, r.text
        sid = r.json()["sample_id"]
        (requested,) = await mails(inbox, supplier_mail, "sample_requested", 1)
        assert "pre-production sample is requested" in requested["subject"]

        await producer.send_and_wait("production.progress.v1", progress(oid, 1, 100), key=key)
        await producer.send_and_wait("production.progress.v1", progress(oid, 2, 10), key=key)
        headers, _ = await dead.wait_for(
            lambda h, v: h.get("rule") == "pp_sample_not_approved" and oid.encode() in _raw(v),
            what="the gate's dead letter",
        )
        assert "pre-production sample" in headers["error"]

        submission = {"quantity": 3, "courier": "DHL", "tracking_number": f"JD{oid[:6]}"}
        submit, decide = f"{samples}/{sid}/submission", f"{samples}/{sid}/decision"
        supplier_auth, buyer_auth = auth("supplier", SUPPLIER), auth("buyer", BUYER)
        assert (await http.post(submit, json=submission, headers=supplier_auth)).status_code == 200
        (submitted,) = await mails(inbox, buyer_mail, "sample_submitted", 1)
        assert f"JD{oid[:6]}" in submitted["body"]
        reject = {
            "decision": "rejected",
            "comments": "shade off the lab dip",
            "next_due_date": day(12),
        }
        assert (await http.post(decide, json=reject, headers=buyer_auth)).status_code == 200
        (rejected,) = await mails(inbox, supplier_mail, "sample_rejected", 1)
        assert "shade off the lab dip" in rejected["body"]
        assert (await http.post(submit, json=submission, headers=supplier_auth)).status_code == 200
        await mails(inbox, buyer_mail, "sample_submitted", 2)
        approve = {"decision": "approved"}
        r = await http.post(decide, json=approve, headers=buyer_auth)
        assert r.status_code == 200 and r.json()["round"] == 2, r.text
        (approved,) = await mails(inbox, supplier_mail, "sample_approved", 1)
        assert "Bulk production may start" in approved["body"]

    await producer.send_and_wait("production.progress.v1", progress(oid, 2, 10), key=key)
    _, started = await production.wait_for(
        lambda h, v: (
            about(oid, "production.stage_started")(h, v) and v["data"]["stage_number"] == 2
        ),
        what="knitting started after the approval",
    )
    assert started["data"]["stage_name"] == "Knitting"


def _raw(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
