"""GET/PUT /v1/suppliers/{id}/calendar: who may, what is valid, If-Match; plans use it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from looptrace_production.calendar import WorkCalendar

pytestmark = pytest.mark.integration

SIX_DAYS = {"weekend": [6], "holidays": ["2026-12-25", "2026-12-24"]}


def url(supplier: str) -> str:
    return f"/v1/suppliers/{supplier}/calendar"


@pytest.fixture
def supplier() -> str:
    return f"s-cal-{uuid.uuid4()}"


async def test_a_supplier_without_a_calendar_works_the_default_one(running, supplier) -> None:  # type: ignore[no-untyped-def]
    r = await running.http.get(url(supplier), headers=running.token("supplier", supplier))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "supplier_id": supplier,
        "weekend": [5, 6],
        "holidays": [],
        "version": 0,
        "updated_at": None,
        "default": True,
    }
    assert r.headers["ETag"] == '"0"'


async def test_the_supplier_or_an_admin_sets_it_and_if_match_guards_it(running, supplier) -> None:  # type: ignore[no-untyped-def]
    http, own = running.http, running.token("supplier", supplier)
    r = await http.put(url(supplier), json=SIX_DAYS, headers={**own, "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["weekend"] == [6] and body["holidays"] == ["2026-12-24", "2026-12-25"]
    assert body["version"] == 1 and body["default"] is False and r.headers["ETag"] == '"1"'

    stale = await http.put(url(supplier), json=SIX_DAYS, headers={**own, "If-Match": '"0"'})
    assert stale.status_code == 412 and stale.json()["rule"] == "stale_version"
    assert "at version 1, not 0" in stale.json()["detail"]

    admin = {**running.token("admin", "ops"), "If-Match": 'W/"1"'}
    r = await http.put(url(supplier), json={"weekend": [4, 5]}, headers=admin)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["holidays"] == []
    r = await http.put(url(supplier), json=SIX_DAYS, headers=own)  # no If-Match: allowed
    assert r.status_code == 200 and r.json()["version"] == 3
    r = await http.get(url(supplier), headers=running.token("buyer", "b-1"))
    assert r.status_code == 200 and r.json()["weekend"] == [6] and r.json()["version"] == 3

    bad = await http.put(url(supplier), json=SIX_DAYS, headers={**own, "If-Match": "latest"})
    assert bad.status_code == 422 and "If-Match must be" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("role", "subject", "status"), [("supplier", "s-other", 404), ("buyer", "b-1", 403)]
)
async def test_no_one_else_may_change_it(running, supplier, role, subject, status) -> None:  # type: ignore[no-untyped-def]
    """Another supplier is told "not there" (not yours looks like not there); a buyer, who may
    read calendars, is told its role may not change them."""
    r = await running.http.put(url(supplier), json=SIX_DAYS, headers=running.token(role, subject))
    assert r.status_code == status
    if status == 403:
        assert r.json()["rule"] == "forbidden" and "only supplier" in r.json()["detail"]


async def test_other_suppliers_may_not_read_it(running, supplier) -> None:  # type: ignore[no-untyped-def]
    r = await running.http.get(url(supplier), headers=running.token("supplier", "s-other"))
    assert r.status_code == 404 and r.json()["rule"] == "not_found"
    assert (await running.http.get(url(supplier))).status_code == 401


@pytest.mark.parametrize(
    ("body", "rule", "message"),
    [
        ({"weekend": [5, 7]}, "weekend_day_out_of_range", "0 (Monday) to 6 (Sunday), got [7]"),
        ({"weekend": [0, 1, 2, 3, 4, 5, 6]}, "calendar_without_working_days", "seven days"),
        (
            {"weekend": [6], "holidays": ["2026-12-25", "2026-02-30", "25/12/2026"]},
            "holiday_not_a_date",
            "holidays[1] = '2026-02-30', holidays[2] = '25/12/2026'",
        ),
    ],
)
async def test_an_invalid_calendar_is_refused_with_the_rule(
    running, supplier, body, rule, message
) -> None:  # type: ignore[no-untyped-def]
    r = await running.http.put(url(supplier), json=body, headers=running.token("admin", "ops"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["rule"] == rule and message in r.json()["detail"], r.json()
    r = await running.http.get(url(supplier), headers=running.token("admin", "ops"))
    assert r.json()["version"] == 0, "nothing written"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"holidays": []}, "weekend"), ({"weekend": [6], "weekends": [5]}, "weekends")],
)
async def test_a_malformed_body_names_the_field(running, supplier, body, field) -> None:  # type: ignore[no-untyped-def]
    r = await running.http.put(url(supplier), json=body, headers=running.token("admin", "ops"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


async def test_plans_over_kafka_use_it_and_http_progress_keeps_the_plans_calendar(
    running, kit, supplier
) -> None:  # type: ignore[no-untyped-def]
    own = running.token("supplier", supplier)
    r = await running.http.put(url(supplier), json=SIX_DAYS, headers=own)
    assert r.status_code == 200
    oid = str(uuid.uuid4())
    await kit.assign(kit.assignment(oid, "knitwear", supplier=supplier))
    timeline = await kit.until(lambda: running.timeline(oid), bool, what="plan exists")
    assert timeline["working_days"] == {"weekend": [6], "holidays": ["2026-12-24", "2026-12-25"]}

    await running.http.put(url(supplier), json={"weekend": [5, 6]}, headers=own)
    at = datetime.now(UTC) - timedelta(minutes=5)
    reports = [kit.progress(oid, 1, 100, at), kit.progress(oid, 2, 10, at)]
    r = await running.http.post("/v1/progress", json=reports, headers=own)
    assert r.status_code == 200, r.text
    knitting = (await running.timeline(oid))["stages"][1]
    planned_with = WorkCalendar.six_day_week(
        holidays=[datetime(2026, 12, d).date() for d in (24, 25)]
    )
    expected = planned_with.add_working_days(at.date(), 11)  # 12 days always span a Saturday
    assert knitting["forecast_end"] == expected.isoformat()
    assert expected != WorkCalendar().add_working_days(at.date(), 11)
