"""Retention: a completed order past the threshold moves to the archive schema and reads the
same over HTTP; interrupted runs neither lose nor duplicate (real PostgreSQL and broker)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest

from looptrace_orders import retention
from looptrace_orders.config import OrdersSettings
from looptrace_shared import testing
from looptrace_shared.db import make_engine

pytestmark = pytest.mark.integration

TABLES = ("orders", "status_history", "shipments", "shipment_updates", "invoices")


async def completed_long_ago(running, shippable, years: int = 3) -> str:  # type: ignore[no-untyped-def]
    """An order shipped in two parts (with details and an ETA update), one invoice issued,
    delivered and completed; then its history is dated ``years`` back."""
    oid = await shippable(quantity=10)
    http, admin = running.http, running.admin
    eta = str(date.today() + timedelta(days=20))
    for n, qty in enumerate((4, 6)):
        body = {"carrier": "CMA", "tracking_number": f"T{n}", "quantity_shipped": qty,
                "mode": "sea", "port_of_loading": "VNSGN", "estimated_arrival": eta}  # fmt: skip
        assert (
            await http.post(f"/v1/orders/{oid}/shipments", json=body, headers=admin)
        ).status_code == 200
    sid = (await http.get(f"/v1/orders/{oid}/shipments", headers=admin)).json()[0]["id"]
    later = {"estimated_arrival": str(date.today() + timedelta(days=25))}
    assert (
        await http.patch(f"/v1/orders/{oid}/shipments/{sid}", json=later, headers=admin)
    ).status_code == 200
    number = (await http.get(f"/v1/orders/{oid}/invoices", headers=admin)).json()["invoices"][0][
        "number"
    ]
    issue = {"status": "issued"}
    assert (
        await http.post(f"/v1/orders/{oid}/invoices/{number}/status", json=issue, headers=admin)
    ).status_code == 200
    assert (await http.post(f"/v1/orders/{oid}/delivery", headers=admin)).json()[
        "workflow_status"
    ] == "completed"
    await sql(running, "UPDATE orders.status_history SET at = at - make_interval(years => :y) "
              "WHERE order_id = :oid", y=years, oid=oid)  # fmt: skip
    return oid


async def sql(running, statement: str, **params: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    return await testing.sql(running.settings.database_url, statement, **params)


async def counts(running, schema: str, ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = {}
    for t in TABLES:
        key = "id" if t == "orders" else "order_id"
        rows = await sql(
            running, f"SELECT count(*) FROM {schema}.{t} WHERE {key} = ANY(:ids)", ids=ids
        )
        out[t] = rows[0][0]
    return out


async def snapshot(running, oid: str, number: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    views = {}
    for role, subject in [("admin", "ops"), ("buyer", "b-1"), ("supplier", "s-1")]:
        h = running.as_(role, subject)
        for path in ("", "/history", "/shipments", "/invoices"):
            r = await running.http.get(f"/v1/orders/{oid}{path}", headers=h)
            assert r.status_code == 200, r.text
            views[role, path] = (r.json(), r.headers.get("etag"))
        views[role, "by number"] = (
            await running.http.get(f"/v1/orders/{number}", headers=h)
        ).json()
    r = await running.http.get(f"/v1/orders/{oid}", headers=running.as_("buyer", "b-2"))
    views["other buyer"] = r.status_code
    return views


async def move(running, **overrides: Any) -> Any:  # type: ignore[no-untyped-def]
    url = running.settings.database_url
    return await testing.run_retention(retention.RETENTION, url, **overrides)


async def test_an_archived_order_reads_the_same_over_http(running, shippable) -> None:  # type: ignore[no-untyped-def]
    oid = await completed_long_ago(running, shippable)
    recent = await completed_long_ago(running, shippable, years=1)  # inside the threshold
    number = (await running.order(oid))["order_number"]
    before = await snapshot(running, oid, number)
    live = await counts(running, "orders", [oid])
    assert live["shipments"] == 2 and live["invoices"] == 4 and live["shipment_updates"] == 1

    dry = await move(running, dry_run=True)
    assert dry.orders >= 1 and dry.rows["invoices"] >= 4 and "would move" in dry.lines()[0]
    assert await counts(running, "orders", [oid]) == live  # a dry run changes nothing

    report = await move(running)
    assert report.orders >= 1 and "moved" in report.lines()[0]
    assert await counts(running, "orders_archive", [oid]) == live
    assert set((await counts(running, "orders", [oid])).values()) == {0}
    assert (await counts(running, "orders", [recent]))["orders"] == 1  # kept live
    assert await snapshot(running, oid, number) == before

    http, admin = running.http, running.admin
    r = await http.post(f"/v1/orders/{oid}/cancel", json={"reason": "x"}, headers=admin)
    assert r.status_code == 409  # completed: closed, as it was live
    sid = before["admin", "/shipments"][0][0]["id"]
    late = {"estimated_arrival": str(date.today() + timedelta(days=40))}
    r = await http.patch(f"/v1/orders/{oid}/shipments/{sid}", json=late, headers=admin)
    assert r.status_code == 409 and r.json()["rule"] == "order_archived"
    again = await move(running)  # idempotent: nothing left to move
    assert await counts(running, "orders_archive", [oid]) == live and oid not in str(again)


async def test_an_interrupted_run_neither_loses_nor_duplicates(running, shippable) -> None:  # type: ignore[no-untyped-def]
    ids = [await completed_long_ago(running, shippable) for _ in range(4)]
    before = await counts(running, "orders", ids)
    seen: list[str] = []

    async def fail_on_third(batch: list[str]) -> None:
        seen.extend(batch)
        if len(seen) == 3:  # after the third order's copy, before its commit
            raise RuntimeError("interrupted")

    settings = OrdersSettings(database_url=running.settings.database_url, retention_batch=1)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with pytest.raises(RuntimeError, match="interrupted"):
            await retention.run(engine, settings, on_batch=fail_on_third)
    finally:
        await engine.dispose()
    mine = [i for i in seen if i in ids]
    archived = await counts(running, "orders_archive", ids)
    assert archived["orders"] == len([i for i in seen[:2] if i in ids])
    assert (await counts(running, "orders", ids))["orders"] == 4 - archived["orders"]
    assert mine  # the run did reach this test's orders

    await move(running, retention_batch=1)
    assert await counts(running, "orders_archive", ids) == before  # nothing lost, nothing twice
    assert set((await counts(running, "orders", ids)).values()) == {0}


def test_the_command_prints_what_it_would_move(running) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "DATABASE_URL": running.settings.database_url}
    looptrace = os.path.join(os.path.dirname(sys.executable), "looptrace")
    out = subprocess.run(
        [looptrace, "retention", "run", "--dry-run", "--service", "orders"], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert out.stdout.startswith("orders: would move the records of ")
    assert "to cold storage" in out.stdout
