"""A cancelled order releases its supplier's capacity, through the real broker and PostgreSQL;
the planned load rebuilt from the plans equals the load kept incrementally."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from looptrace_shared.topics import (
    ORDERS_EVENTS,
    PRODUCTION_EVENTS,
    PRODUCTION_PROGRESS,
    QUALITY_EVENTS,
    dlq,
)

pytestmark = pytest.mark.integration

OVER, BACK = b"production.capacity_overloaded", b"production.capacity_recovered"
KNIT = "category:knitwear"


@pytest.fixture
def supplier() -> str:
    return f"s-close-{uuid.uuid4().hex[:12]}"


async def with_capacity(running, supplier: str, units: int) -> None:  # type: ignore[no-untyped-def]
    admin = running.token("admin", "ops")
    body = {
        "supplier_id": supplier,
        "name": "Knit Works",
        "categories": [{"category": "knitwear", "moq": 100, "lead_time_days": 30}],
        "processes": ["knitting", "linking"],
    }
    assert (await running.http.post("/v1/suppliers", json=body, headers=admin)).status_code == 201
    monday = date.today() - timedelta(days=date.today().weekday())
    entry = {"category": "knitwear", "units_per_week": units, "effective_from": str(monday)}
    r = await running.http.put(
        f"/v1/suppliers/{supplier}/capacity", json={"entries": [entry]}, headers=admin
    )
    assert r.status_code == 200, r.text


async def weeks(running, supplier: str) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await running.http.get(
        f"/v1/suppliers/{supplier}/utilisation?weeks=30", headers=running.token("admin", "ops")
    )
    assert r.status_code == 200, r.text
    return {f"{w['week']} {w['bucket']}": w for w in r.json()}


def knitting(w: dict[str, dict[str, Any]]) -> float:
    return sum(x["load_units"] for x in w.values() if x["bucket"] == KNIT)


def status_changed(order_id: str, to: str, frm: str = "in_production") -> dict[str, Any]:
    return {
        "order_id": order_id,
        "order_number": f"PO-{order_id[:8]}",
        "from_status": frm,
        "to_status": to,
        "status": to,
        "production_status": "not_started",
        "reason": "buyer withdrew",
    }


async def cancel(kit, order_id: str, envelope_id: uuid.UUID | None = None) -> Any:  # type: ignore[no-untyped-def]
    data = status_changed(order_id, "cancelled")
    return await kit.send("order.status_changed", order_id, data, ORDERS_EVENTS, envelope_id)


async def refused(kit, order_id: str, at: Any) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Report on the order; the dead letter's headers (it must not park)."""
    await kit.report(kit.progress(order_id, 1, 50, at))
    letters = await kit.read(dlq(PRODUCTION_PROGRESS), {order_id}, lambda rs: len(rs) >= 1)
    assert letters, f"the report on {order_id} was neither refused nor dead-lettered"
    return dict(kit.headers(letters[0]))


async def capacity_events(
    kit, supplier: str, want: int, kind: bytes, timeout: float = 90
) -> Counter[str]:  # type: ignore[no-untyped-def]
    records = await kit.read(
        PRODUCTION_EVENTS, {supplier}, lambda rs: sum(kind in r.value for r in rs) >= want, timeout
    )
    return Counter(e.data["week"] for e in kit.envelopes(records) if e.type.encode() == kind)


async def no_longer_counted(running, kit, order_id: str, supplier: str) -> None:  # type: ignore[no-untyped-def]
    """Candidates see only the open order's load; the plan reads, and refuses reports, over HTTP."""
    target = date.today() + timedelta(days=70)
    q = f"/v1/suppliers/candidates?category=knitwear&quantity=500&target_date={target}"
    r = await running.http.get(q, headers=running.token("admin", "ops"))
    mine = [c for c in r.json() if c["supplier_id"] == supplier]
    planned = sum(w["planned_units"] for w in mine[0]["weeks"] if w["bucket"] == KNIT)
    assert planned == pytest.approx(500, abs=1), "the cancelled plan no longer counts"
    timeline = await running.timeline(order_id)
    assert timeline is not None, "the cancelled plan's history stays readable"
    assert timeline["closed_as"] == "cancelled" and timeline["closed_at"], timeline
    over_http = await running.http.post(
        "/v1/progress",
        json=kit.progress(order_id, 1, 60, kit.an_hour_ago()),
        headers=running.token("supplier", supplier),
    )
    assert over_http.status_code == 409, over_http.text
    assert over_http.json()["rule"] == "order_cancelled"
    assert "was cancelled on" in over_http.json()["detail"]


async def test_a_cancellation_releases_the_load_once_and_refuses_later_reports(
    running, kit, supplier
) -> None:  # type: ignore[no-untyped-def]
    await with_capacity(running, supplier, 300)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for order_id in (a, b):
        await kit.assign(kit.assignment(order_id, "knitwear", supplier=supplier, days=70))
    both = await kit.until(lambda: weeks(running, supplier), lambda w: knitting(w) > 999,
                           what="load of both orders")  # fmt: skip
    overloaded = {w["week"] for w in both.values() if w["overloaded"]}
    assert overloaded, both
    assert set(await capacity_events(kit, supplier, len(overloaded), OVER)) == overloaded

    await cancel(kit, b)
    after = await kit.until(lambda: weeks(running, supplier),
                            lambda w: knitting(w) < 501 and not any(x["overloaded"] for x in w.values()),
                            what="b's knitting released")  # fmt: skip
    assert knitting(after) == pytest.approx(500, abs=0.5), "a's load stays whole"
    back = await capacity_events(kit, supplier, len(overloaded), BACK)
    assert set(back) == overloaded

    first = await cancel(kit, b)  # a second cancellation, and a redelivery of it
    await cancel(kit, b, envelope_id=first.id)
    headers = await refused(kit, b, kit.an_hour_ago())  # same key: after both cancellations
    assert headers["rule"] == "order_cancelled", headers
    assert await weeks(running, supplier) == after, "a repeated cancellation changes nothing"
    await asyncio.sleep(1.0)  # a few folds
    again = await capacity_events(kit, supplier, len(overloaded) + 1, BACK, timeout=3)
    assert again == back and set(again.values()) == {1}, "recovered once per week"

    await no_longer_counted(running, kit, b, supplier)


async def test_a_cancellation_before_the_assignment_plans_the_order_closed(
    running, kit, supplier
) -> None:  # type: ignore[no-untyped-def]
    await with_capacity(running, supplier, 300)
    early, never, later = (str(uuid.uuid4()) for _ in range(3))
    await cancel(kit, never)  # an order production never plans: nothing to wait for
    await cancel(kit, early)
    await kit.assign(kit.assignment(early, "knitwear", supplier=supplier, days=70))
    await kit.assign(kit.assignment(later, "knitwear", supplier=supplier, days=70))
    await kit.until(lambda: weeks(running, supplier), lambda w: knitting(w) > 1,
                    what="the open order's load")  # fmt: skip
    await kit.until(lambda: running.timeline(early), lambda t: t is not None,
                    what="the early-cancelled order planned, as closed")  # fmt: skip
    headers = await refused(kit, early, kit.an_hour_ago())
    assert headers["rule"] == "order_cancelled", headers
    assert (await running.timeline(early))["closed_as"] == "cancelled"
    assert knitting(await weeks(running, supplier)) == pytest.approx(500, abs=0.5)


async def test_a_signed_off_order_takes_no_more_reports(running, kit, supplier) -> None:  # type: ignore[no-untyped-def]
    await with_capacity(running, supplier, 1000)
    order_id = str(uuid.uuid4())
    await kit.assign(kit.assignment(order_id, "knitwear", supplier=supplier, days=70))
    await kit.until(lambda: weeks(running, supplier), lambda w: knitting(w) > 1, what="load")
    data = status_changed(order_id, "completed", frm="delivered")
    await kit.send("order.status_changed", order_id, data, ORDERS_EVENTS)
    await kit.until(lambda: weeks(running, supplier), lambda w: knitting(w) < 1,
                    what="the unreported stages' load released")  # fmt: skip
    headers = await refused(kit, order_id, kit.an_hour_ago())
    assert headers["rule"] == "order_closed", headers
    assert (await running.timeline(order_id))["closed_as"] == "completed"


def rebuild(database_url: str) -> str:
    """The command an operator runs, in its own process."""
    looptrace = Path(sys.executable).with_name("looptrace")
    done = subprocess.run(
        [str(looptrace), "production", "rebuild-load", "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_the_load_rebuilt_from_the_plans_equals_the_load_kept_incrementally(
    running, kit, supplier, database_url
) -> None:  # type: ignore[no-untyped-def]
    await with_capacity(running, supplier, 5000)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for n, order_id in enumerate(ids):
        await kit.assign(kit.assignment(order_id, "knitwear", supplier=supplier, days=60 + 9 * n))
    await cancel(kit, ids[2])
    at = kit.an_hour_ago()
    for n, (stage, pct) in enumerate([(1, 10), (1, 100)]):  # a re-forecast of the first
        await kit.report(kit.progress(ids[0], stage, pct, kit.stamp(at, n)))
    kept = await kit.until(lambda: weeks(running, supplier),
                           lambda w: knitting(w) == pytest.approx(1000, abs=0.5),
                           what="two orders' load")  # fmt: skip
    await asyncio.sleep(1.0)  # the last report's change folded
    kept = await weeks(running, supplier)

    engine = create_async_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:  # as if planned before the supplier network
            for table in ("supplier_load", "load_deltas"):
                await conn.execute(
                    text(f"DELETE FROM production.{table} WHERE supplier_id = :s"),
                    {"s": supplier},
                )
        assert await weeks(running, supplier) == {}
        first = await asyncio.to_thread(rebuild, database_url)
        assert await weeks(running, supplier) == kept, first
        second = await asyncio.to_thread(rebuild, database_url)
        assert "0 supplier-week loads corrected; 0 capacity events" in second, second
        assert await weeks(running, supplier) == kept
    finally:
        await engine.dispose()


async def test_a_closed_order_keeps_quality_results_and_reopens_nothing(
    running, kit, supplier
) -> None:  # type: ignore[no-untyped-def]
    """A failed inspection of a cancelled order is recorded, but no stage reopens and no
    event tells anyone about rework on an order nobody will make."""
    await with_capacity(running, supplier, 1000)
    order_id = str(uuid.uuid4())
    await kit.assign(kit.assignment(order_id, "knitwear", supplier=supplier, days=70))
    await kit.until(lambda: running.timeline(order_id), lambda t: t is not None, what="planned")
    await cancel(kit, order_id)
    before = await kit.until(lambda: running.timeline(order_id),
                             lambda t: t["closed_as"] == "cancelled", what="closed")  # fmt: skip
    failed = {
        "order_id": order_id, "order_number": "x", "inspection_id": f"i-{order_id[:8]}",
        "stage_number": 5, "sample_inspected": 80, "defects_by_class": {"major": 4},
        "summary": "4 major (Ac 2)",
    }  # fmt: skip
    await kit.send("quality.inspection_failed", order_id, failed, QUALITY_EVENTS)
    after = await kit.until(
        lambda: running.timeline(order_id),
        lambda t: any(failed["inspection_id"] in why for why in t["qc_gate_waiting_for"]),
        what="the failed inspection recorded",
    )
    assert [s["status"] for s in after["stages"]] == [s["status"] for s in before["stages"]]
    assert all(s["delay_reason"] != "quality_rework" for s in after["stages"]), after["stages"]
    records = await kit.read(PRODUCTION_EVENTS, {order_id}, lambda rs: False, 2)
    reopened = [e for e in kit.envelopes(records) if e.type == "production.stage_reopened"]
    assert reopened == [], "a cancelled order's rework was announced"
