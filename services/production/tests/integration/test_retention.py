"""Retention of production's records: an order completed long ago (orders says so over the
broker) moves with its plan, samples, progress log, notes, photos and documents to
``production_archive`` and reads the same over HTTP; changes are refused (real PostgreSQL and
broker)."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image

from looptrace_production import retention
from looptrace_shared import testing
from looptrace_shared.topics import ORDERS_EVENTS

pytestmark = pytest.mark.integration

SUPPLIER, BUYER = "s-retention", "b-retention"
TABLES = tuple(retention.STORE.live)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def sql(running, statement: str, **params: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    return await testing.sql(running.settings.database_url, statement, **params)


async def counts(running, schema: str, oid: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        t: (await sql(running, f"SELECT count(*) FROM {schema}.{t} WHERE order_id = :o", o=oid))[0][
            0
        ]
        for t in TABLES
    }


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def an_order_with_records(running, kit) -> str:  # type: ignore[no-untyped-def]
    """Planned, a PP sample requested and submitted, stage 1 reported done, a note, a photo
    and a document; then orders says it completed."""
    oid = str(uuid.uuid4())
    await kit.assign(kit.assignment(oid, "knitwear", supplier=SUPPLIER, buyer=BUYER))
    await kit.until(lambda: running.timeline(oid), bool, what="plan exists")
    http, buyer, supplier = (
        running.http,
        running.token("buyer", BUYER),
        running.token("supplier", SUPPLIER),
    )
    due = (date.today() + timedelta(days=5)).isoformat()
    r = await http.post(f"/v1/orders/{oid}/samples", json={"kind": "pre_production",
                        "due_date": due}, headers=buyer)  # fmt: skip
    assert r.status_code == 201, r.text
    submission = {"quantity": 3, "courier": "DHL", "tracking_number": "JD1"}
    r = await http.post(f"/v1/orders/{oid}/samples/{r.json()['sample_id']}/submission",
                        json=submission, headers=supplier)  # fmt: skip
    assert r.status_code == 200, r.text
    done = kit.progress(oid, 1, 100, kit.stamp(kit.an_hour_ago(), 1))
    assert (await http.post("/v1/progress", json=done, headers=supplier)).status_code == 200
    note = await http.post(f"/v1/orders/{oid}/stages/1/notes", json={"text": "ok"}, headers=buyer)
    assert note.status_code == 201, note.text
    files = {"file": ("a.png", png(), "image/png")}
    r = await http.post(f"/v1/orders/{oid}/stages/1/photos", files=files, headers=supplier)
    assert r.status_code in (200, 201), r.text
    files = {"file": ("f.pdf", PDF, "application/octet-stream")}
    form = {"doc_type": "bom", "title": "bom"}
    r = await http.post(f"/v1/orders/{oid}/documents", files=files, data=form, headers=buyer)
    assert r.status_code == 201, r.text
    data = {"order_id": oid, "order_number": "x", "from_status": "delivered", "to_status":
            "completed", "status": "completed", "production_status": "completed"}  # fmt: skip
    await kit.send("order.status_changed", oid, data, ORDERS_EVENTS)
    q = "SELECT count(*) FROM production.order_completions WHERE order_id = :o"
    await kit.until(lambda: sql(running, q, o=oid), lambda rows: rows[0][0] == 1, what="noted")
    return oid


async def snapshot(running, oid: str) -> dict[Any, Any]:  # type: ignore[no-untyped-def]
    views: dict[Any, Any] = {}
    for role, subject in (("admin", "ops"), ("buyer", BUYER), ("supplier", SUPPLIER)):
        h = running.token(role, subject)
        for path in ("timeline", "samples", "documents"):
            r = await running.http.get(f"/v1/orders/{oid}/{path}", headers=h)
            assert r.status_code == 200, (path, r.text)
            views[role, path] = r.json()
        doc = views[role, "documents"][0]
        content = await running.http.get(doc["versions"][0]["url"], headers=h)
        photo = views[role, "timeline"]["stages"][0]["photos"][0]
        thumb = await running.http.get(photo["thumbnail_url"], headers=h)
        views[role, "files"] = (content.status_code, content.content, thumb.status_code)
    warned = await running.http.get(f"/v1/orders/{oid}/assignment-warnings",
                                    headers=running.token("admin", "ops"))  # fmt: skip
    views["warnings"] = warned.json()
    other = running.token("buyer", "b-someone-else")
    views["other"] = (
        await running.http.get(f"/v1/orders/{oid}/timeline", headers=other)
    ).status_code
    return views


async def move(running, **overrides: Any) -> Any:  # type: ignore[no-untyped-def]
    url = running.settings.database_url
    return await testing.run_retention(retention.RETENTION, url, **overrides)


async def test_an_archived_orders_production_records_read_the_same(running, kit) -> None:  # type: ignore[no-untyped-def]
    oid, recent = (
        await an_order_with_records(running, kit),
        await an_order_with_records(running, kit),
    )
    await sql(running, "UPDATE production.order_completions SET completed_at = completed_at - "
              "interval '3 years' WHERE order_id = :o", o=oid)  # fmt: skip
    before = await snapshot(running, oid)
    assert before["other"] == 404 and before["admin", "files"] == (200, PDF, 200)
    live = await counts(running, "production", oid)
    live_but_warnings = {t: n for t, n in live.items() if t != "assignment_warnings"}
    assert live_but_warnings == dict.fromkeys(live_but_warnings, 1), live

    dry = await move(running, dry_run=True)
    assert dry.orders >= 1 and "would move" in dry.lines()[0]
    assert await counts(running, "production", oid) == live  # a dry run changes nothing

    report = await move(running)
    assert report.lines()[0].startswith("production: moved the records of ")
    assert await counts(running, "production_archive", oid) == live
    assert set((await counts(running, "production", oid)).values()) == {0}
    assert (await counts(running, "production", recent))["supplier_orders"] == 1  # kept live
    assert await snapshot(running, oid) == before

    buyer = running.token("buyer", BUYER)
    r = await running.http.post(f"/v1/orders/{oid}/stages/1/notes", json={"text": "late"},
                                headers=buyer)  # fmt: skip
    assert r.status_code == 409 and r.json()["rule"] == "order_archived"
    files = {"file": ("f.pdf", PDF, "application/octet-stream")}
    r = await running.http.post(f"/v1/orders/{oid}/documents", files=files,
                                data={"doc_type": "bom", "title": "b"}, headers=buyer)  # fmt: skip
    assert r.status_code == 409 and r.json()["rule"] == "order_archived"
    assert (await move(running)).rows.get("supplier_orders", 0) == 0  # idempotent
    assert await counts(running, "production_archive", oid) == live
