"""The sample loop over HTTP and the PP-sample gate over HTTP and Kafka (real broker, PostgreSQL):
request → submit → reject → resubmit → approve; bulk refused with a named rule until then."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from looptrace_shared.topics import PRODUCTION_EVENTS, PRODUCTION_PROGRESS, dlq

pytestmark = pytest.mark.integration

SUPPLIER, BUYER = "s-samples", "b-samples"


@pytest.fixture(scope="module")
async def order(running, kit) -> str:  # type: ignore[no-untyped-def]
    oid = str(uuid.uuid4())
    await kit.assign(kit.assignment(oid, "knitwear", supplier=SUPPLIER, buyer=BUYER))
    await kit.until(lambda: running.timeline(oid), bool, what="plan exists")
    return oid


def day(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


async def post(running: Any, path: str, body: Any, role: str, subject: str) -> Any:
    return await running.http.post(path, json=body, headers=running.token(role, subject))


async def test_sample_loop_and_the_pp_gate(running, kit, order) -> None:  # type: ignore[no-untyped-def]
    base, samples = kit.an_hour_ago(), f"/v1/orders/{order}/samples"
    r = await post(running, samples, {"kind": "pre_production", "due_date": day(5)}, "buyer", BUYER)
    assert r.status_code == 201, r.text
    sample = r.json()
    assert sample["status"] == "requested" and sample["round"] == 1
    assert sample["planned_date"] is not None
    sid = sample["sample_id"]

    refusals = [
        (await post(running, samples, {"kind": "fit", "due_date": day(5)}, "buyer", "b-x"), 404),
        (await post(running, samples, {"kind": "fit", "due_date": day(5)}, "supplier", SUPPLIER), 403),
        (await post(running, samples, {"kind": "muslin", "due_date": day(5)}, "buyer", BUYER), 422),
        (await post(running, samples, {"kind": "fit", "due_date": day(-1)}, "buyer", BUYER), 422),
    ]  # fmt: skip
    assert [r.status_code for r, _ in refusals] == [want for _, want in refusals]
    assert refusals[3][0].json()["rule"] == "sample_due_date_in_past"

    # bulk production (knitting) is refused over HTTP and over Kafka until the approval
    supplier = running.token("supplier", SUPPLIER)
    done = await running.http.post(
        "/v1/progress", json=kit.progress(order, 1, 100, kit.stamp(base, 1)), headers=supplier
    )
    assert done.status_code == 200, done.text
    knit = kit.progress(order, 2, 10, kit.stamp(base, 2))
    r = await running.http.post("/v1/progress", json=knit, headers=supplier)
    assert r.status_code == 409 and r.json()["rule"] == "pp_sample_not_approved"
    assert "round 1, is requested" in r.json()["detail"]
    line = await running.timeline(order, "buyer", BUYER)
    assert "round 1, is requested" in line["pp_gate_waiting_for"]
    (pp,) = [m for m in line["sample_milestones"] if m["kind"] == "pre_production"]
    assert pp["gates"] and pp["state"] == "round 1 requested" and pp["forecast_date"] == day(5)
    refused = await kit.report(kit.progress(order, 2, 20, kit.stamp(base, 3)))
    letters = await kit.read(dlq(PRODUCTION_PROGRESS), {order}, lambda rs: len(rs) >= 1)
    assert [kit.headers(x)["rule"] for x in letters] == ["pp_sample_not_approved"]
    assert str(refused.id).encode() in letters[0].value

    submission = {"quantity": 3, "courier": "DHL", "tracking_number": "JD0001",
                  "photo_refs": ["https://f.example/pp1.jpg"]}  # fmt: skip
    submit = f"{samples}/{sid}/submission"
    other = await post(running, submit, submission, "supplier", "s-other")
    assert other.status_code == 404
    r = await post(running, submit, submission, "supplier", SUPPLIER)
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    decide = f"{samples}/{sid}/decision"
    no_reason = await post(running, decide, {"decision": "rejected", "next_due_date": day(9)},
                           "buyer", BUYER)  # fmt: skip
    assert no_reason.status_code == 422 and "reasons" in no_reason.text
    reject = {"decision": "rejected", "comments": "shade off", "next_due_date": day(9)}
    r = await post(running, decide, reject, "buyer", BUYER)
    assert r.status_code == 200, r.text
    assert r.json()["round"] == 2 and r.json()["rounds"][0]["status"] == "rejected"
    again = await post(running, decide, reject, "buyer", BUYER)
    assert again.status_code == 409 and again.json()["rule"] == "sample_not_awaiting"
    r = await running.http.post("/v1/progress", json=knit, headers=supplier)
    assert r.status_code == 409 and "round 2, is requested" in r.json()["detail"]

    assert (await post(running, submit, submission, "supplier", SUPPLIER)).status_code == 200
    approve = {"decision": "approved_with_comments", "comments": "keep this hand feel"}
    r = await post(running, decide, approve, "buyer", BUYER)
    assert r.status_code == 200 and r.json()["status"] == "approved_with_comments", r.text
    r = await running.http.post("/v1/progress", json=knit, headers=supplier)
    assert r.status_code == 200 and r.json()[0]["status"] == "in_progress", r.text

    line = await running.timeline(order, "supplier", SUPPLIER)
    assert line["pp_gate_waiting_for"] is None
    assert [m["state"] for m in line["sample_milestones"]] == ["approved"]
    listed = await running.http.get(samples, headers=running.token("buyer", BUYER))
    assert [s["round"] for s in listed.json()] == [2]
    hidden = await running.http.get(samples, headers=running.token("buyer", "b-x"))
    assert hidden.status_code == 404
    events = kit.envelopes(
        await kit.read(
            PRODUCTION_EVENTS, {order},
            lambda rs: any(b"production.sample_approved" in x.value for x in rs),
        )
    )  # fmt: skip
    loop = [e.type.removeprefix("production.sample_") for e in events if "sample_" in e.type]
    assert loop == ["requested", "submitted", "rejected", "submitted", "approved"]
    approved = next(e for e in events if e.type == "production.sample_approved").data
    assert approved["gate_opened"] and approved["round"] == 2
    assert approved["supplier_id"] == SUPPLIER and approved["buyer_id"] == BUYER
