"""The HTTP API: progress (all-or-nothing lists), timeline visibility, notes, photos."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

pytestmark = pytest.mark.integration


def image(fmt: str, size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
async def order(running, kit) -> str:  # type: ignore[no-untyped-def]
    oid = str(uuid.uuid4())
    await kit.assign(kit.assignment(oid, "knitwear", supplier="s-http", buyer="b-http"))
    await kit.until(lambda: running.timeline(oid), bool, what="plan exists")
    return oid


async def test_progress_list_is_all_or_nothing_and_suppliers_report_only_their_orders(
    running, kit, order
) -> None:  # type: ignore[no-untyped-def]
    http, supplier = running.http, running.token("supplier", "s-http")
    base = kit.an_hour_ago()
    bad_list = [
        kit.progress(order, 1, 100, kit.stamp(base, 1)),
        kit.progress(order, 3, 50, kit.stamp(base, 2)),
    ]
    r = await http.post("/v1/progress", json=bad_list, headers=supplier)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["rule"] == "prerequisite_stage_not_done" and r.json()["detail"].startswith(
        "item 2:"
    )
    assert (await running.timeline(order))["stages"][0]["percentage"] == 0, "nothing half-written"

    good = [
        kit.progress(order, 1, 100, kit.stamp(base, 1), message_id="h-1"),
        kit.progress(order, "knitting", 40, kit.stamp(base, 2), notes="machines 3-5"),
    ]
    r = await http.post("/v1/progress", json=good, headers=supplier)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()] == ["completed", "in_progress"]
    again = await http.post("/v1/progress", json=good[0], headers=supplier)
    assert again.json()[0]["duplicate"] is True and again.json()[0]["events"] == []

    other = await http.post(
        "/v1/progress",
        json=kit.progress(order, 2, 50, kit.stamp(base, 3)),
        headers=running.token("supplier", "s-other"),
    )
    assert other.status_code == 404 and other.json()["rule"] == "not_found"  # not yours = not there
    unknown = await http.post(
        "/v1/progress", json=kit.progress("nope", 1, 5, base), headers=supplier
    )
    assert unknown.status_code == 404


async def test_timeline_is_visible_to_the_orders_buyer_supplier_and_admin_only(
    running, order
) -> None:  # type: ignore[no-untyped-def]
    assert await running.timeline(order, "buyer", "b-http")
    assert await running.timeline(order, "supplier", "s-http")
    assert await running.timeline(order, "buyer", "b-other") is None
    r = await running.http.get(
        f"/v1/orders/{order}/timeline", headers=running.token("supplier", "s-x")
    )
    assert r.status_code == 404
    t = await running.timeline(order)
    assert {"baseline_start", "forecast_end", "delay_days", "notes", "photos"} <= set(
        t["stages"][0]
    )
    assert t["projected_completion"] and t["target_date"] and t["on_track"] is True


async def test_notes_and_photos_are_checked_and_shown_on_the_timeline(running, order) -> None:  # type: ignore[no-untyped-def]
    http, supplier = running.http, running.token("supplier", "s-http")
    r = await http.post(
        f"/v1/orders/{order}/stages/2/notes",
        json={"text": "needle change"},
        headers=running.token("buyer", "b-http"),
    )
    assert r.status_code == 201
    r = await http.post(
        f"/v1/orders/{order}/stages/2/photos",
        headers=supplier,
        files={"file": ("knit.txt", image("WEBP"), "text/plain")},
    )
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["content_type"] == "image/webp" and photo["width"] == 800
    thumb = await http.get(photo["thumbnail_url"], headers=supplier)
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) <= 320

    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    r = await http.post(
        f"/v1/orders/{order}/stages/2/photos",
        headers=supplier,
        files={"file": ("fake.jpg", gif.getvalue(), "image/jpeg")},
    )
    assert r.status_code == 415 and r.json()["rule"] == "unsupported_photo_type"
    r = await http.post(
        f"/v1/orders/{order}/stages/2/photos",
        headers=supplier,
        files={"file": ("a.png", b"\x89PNG" + b"0" * 300_000, "image/png")},
    )
    assert r.status_code == 413 and r.json()["rule"] == "photo_too_large"

    stage = (await running.timeline(order))["stages"][1]
    assert [n["text"] for n in stage["notes"]] == ["machines 3-5", "needle change"]
    assert [p["source"] for p in stage["photos"]] == ["upload"]


async def test_the_sweeper_marks_late_stages_delayed_once_per_slip(running, order) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from looptrace_production.sweeper import sweep_delays

    rt = running.app.state.runtime
    later = replace(rt.state, now=lambda: datetime.now(UTC) + timedelta(days=400))
    assert await sweep_delays(rt, later) > 0
    assert await sweep_delays(rt, later) == 0, "a slip is reported once"
    stages = (await running.timeline(order))["stages"]
    assert all(s["status"] == "delayed" for s in stages if s["status"] != "completed")
