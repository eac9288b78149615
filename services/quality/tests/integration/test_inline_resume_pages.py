"""Inline checks and DHU, resuming a discontinued supplier, and keyset pages of inspections."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration


def ids() -> tuple[str, str]:
    return str(uuid.uuid4()), f"sup-{uuid.uuid4().hex[:8]}"


def inline(units: int, *defects: tuple[str, int], at: str | None = None) -> dict[str, object]:
    return {
        "stage": "Sewing & Assembly", "units_checked": units, "checked_at": at,
        "defects": [{"defect_type": code, "count": n} for code, n in defects],
    }  # fmt: skip


async def test_inline_check_gives_dhu_and_a_weekly_trend(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup = ids()
    await kit.feed(kit.initialized(oid, sup, "b-1"))
    url, qc = f"/v1/orders/{oid}/inline-inspections", kit.auth("inspector", "qc-7")
    body = inline(40, ("BROKEN_STITCH", 3), ("PUCKERING", 2), at="2031-03-04T10:00:00+00:00")
    r = await kit.http.post(url, json=body, headers=qc)
    assert r.status_code == 201, r.text
    check = r.json()
    assert (check["dhu"], check["defects_found"], check["inspector"]) == ("12.50", 5, "qc-7")
    assert check["defects_by_class"] == {"critical": 0, "major": 3, "minor": 2}
    (published,) = await kit.events(oid, "quality.inline_check_recorded")  # predictions scores it
    assert (published["inline_check_id"], published["stage_name"], published["dhu"]) == (
        check["id"], check["stage"], "12.50",
    )  # fmt: skip
    assert published["defects_by_class"] == check["defects_by_class"]
    await kit.http.post(
        url, json=inline(60, ("OPEN_SEAM", 1), at="2031-03-06T09:00:00Z"), headers=qc
    )
    await kit.http.post(
        url, json=inline(50, ("OPEN_SEAM", 1), at="2031-03-10T09:00:00Z"), headers=qc
    )

    quality = await kit.http.get(f"/v1/suppliers/{sup}/quality", headers=kit.auth("supplier", sup))
    assert quality.json()["inline_dhu_by_week"] == [
        {
            "week": "2031-03-03",
            "checks": 2,
            "units_checked": 100,
            "defects_found": 6,
            "dhu": "6.00",
        },
        {"week": "2031-03-10", "checks": 1, "units_checked": 50, "defects_found": 1, "dhu": "2.00"},
    ]


async def test_inline_check_refuses_bad_input_with_the_domains_message(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup = ids()
    await kit.feed(kit.initialized(oid, sup, "b-1"))
    url, qc = f"/v1/orders/{oid}/inline-inspections", kit.auth("inspector")
    zero = await kit.http.post(url, json=inline(0, ("BROKEN_STITCH", 1)), headers=qc)
    assert zero.status_code == 422
    assert zero.json()["detail"] == "DHU needs at least 1 inspected unit; units_inspected was 0"
    unknown = await kit.http.post(url, json=inline(10, ("TORN_LABEL", 1)), headers=qc)
    assert unknown.status_code == 422
    detail = unknown.json()["detail"]
    assert "defect type 'TORN_LABEL' is not in the catalogue" in detail
    assert "BROKEN_STITCH" in detail and "PUCKERING" in detail
    blank = await kit.http.post(url, json={**inline(10), "stage": " "}, headers=qc)
    assert blank.status_code == 422 and "Sewing & Assembly" in blank.json()["detail"]
    maker = await kit.http.post(url, json=inline(10), headers=kit.auth("supplier", sup))
    assert maker.status_code == 403
    quality = await kit.http.get(f"/v1/suppliers/{sup}/quality", headers=kit.auth("admin"))
    assert quality.json()["inline_dhu_by_week"] == []  # nothing half-written


async def discontinue(kit, sup: str) -> list[str]:  # type: ignore[no-untyped-def]
    """2 rejected lots tighten the supplier; 5 more rejected on tightened discontinue it."""
    lots = [str(uuid.uuid4()) for _ in range(7)]
    for oid in lots:
        await kit.feed(kit.initialized(oid, sup, "b-1"), kit.qc_completed(oid), kit.result(oid, 9))
    return lots


async def test_resume_a_discontinued_supplier_on_tightened(kit) -> None:  # type: ignore[no-untyped-def]
    _, sup = ids()
    lots = await discontinue(kit, sup)
    admin = kit.auth("admin", "boss")
    state = (await kit.http.get(f"/v1/suppliers/{sup}/quality", headers=admin)).json()
    assert (state["severity"], state["discontinued"]) == ("tightened", True)

    url, why = f"/v1/suppliers/{sup}/resume", {"reason": "new seam QC at the line, 8D report"}
    assert (await kit.http.post(url, json=why, headers=kit.auth("inspector"))).status_code == 403
    assert (await kit.http.post(url, json={"reason": "  "}, headers=admin)).status_code == 422
    r = await kit.http.post(url, json=why, headers=admin)
    assert r.json() == {"supplier_id": sup, "severity": "tightened", "discontinued": False}
    resumed = (await kit.events(lots[-1], "quality.supplier_severity_changed"))[-1]
    assert (resumed["from_severity"], resumed["to_severity"], resumed["discontinued"]) == (
        "tightened", "tightened", False)  # fmt: skip
    assert resumed["reason"] == (
        "corrective action: new seam QC at the line, 8D report (resumed by admin:boss)"
    )
    again = await kit.http.post(url, json=why, headers=admin)
    assert again.status_code == 409 and "not discontinued" in again.json()["detail"]

    nxt = str(uuid.uuid4())
    await kit.feed(kit.initialized(nxt, sup, "b-1"), kit.qc_completed(nxt))
    (scheduled,) = await kit.events(nxt, "quality.inspection_scheduled")
    major = next(p for p in scheduled["plans"] if p["defect_class"] == "major")
    assert (scheduled["severity"], major["accept"], major["reject"]) == ("tightened", 2, 3)


async def test_resuming_a_supplier_that_was_never_discontinued_is_a_conflict(kit) -> None:  # type: ignore[no-untyped-def]
    _, sup = ids()
    r = await kit.http.post(
        f"/v1/suppliers/{sup}/resume", json={"reason": "x"}, headers=kit.auth("admin")
    )
    assert r.status_code == 409 and "normal inspection" in r.json()["detail"]


async def pages(kit, url: str, limit: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    found, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = (await kit.http.get(url, params=params, headers=kit.auth("admin"))).json()
        found.append([i["id"] for i in page["items"]])
        if not (cursor := page["next_cursor"]):
            return found


async def test_inspection_lists_are_keyset_paged(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup = ids()
    await kit.feed(kit.initialized(oid, sup, "b-1"), kit.qc_completed(oid), kit.result(oid, 9))
    await kit.feed(kit.qc_completed(oid), kit.result(oid, 9), kit.qc_completed(oid))
    for other in [str(uuid.uuid4()) for _ in range(2)]:
        await kit.feed(kit.initialized(other, sup, "b-1"), kit.qc_completed(other))

    everything = await kit.http.get(f"/v1/suppliers/{sup}/inspections", headers=kit.auth("admin"))
    all_ids = [i["id"] for i in everything.json()["items"]]
    assert len(all_ids) == 5 and everything.json()["next_cursor"] is None
    assert await pages(kit, f"/v1/suppliers/{sup}/inspections", 2) == [
        all_ids[:2], all_ids[2:4], all_ids[4:]]  # fmt: skip
    rounds = await pages(kit, f"/v1/orders/{oid}/inspections", 1)
    assert [len(p) for p in rounds] == [1, 1, 1, 0] and rounds[:3] == [[i] for i in all_ids[:3]]

    bad = await kit.http.get(
        f"/v1/orders/{oid}/inspections", params={"cursor": "nope"}, headers=kit.auth("admin")
    )
    assert bad.status_code == 422 and "next_cursor of the previous page" in bad.json()["detail"]
