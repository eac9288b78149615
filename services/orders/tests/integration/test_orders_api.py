"""The orders HTTP API: access rules, filters, keyset pagination, If-Match, bad input, bulk."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from looptrace_orders.app import create_app
from looptrace_orders.config import OrdersSettings
from looptrace_shared.testing import bearer, broker_settings, serving

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]  # order numbers unique to this run


@pytest.fixture(scope="module")
async def api(database_url: str, kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    settings = OrdersSettings(**broker_settings(database_url, kafka_bootstrap))
    async with serving(create_app(settings)) as http:
        yield settings, http


auth = bearer


def order(buyer: str, n: int, **over: Any) -> dict[str, Any]:
    body = {
        "order_id": f"{RUN}-{buyer}-{n}",
        "order_number": f"PO-{RUN}-{buyer}-{n:03d}",
        "buyer": {"id": buyer, "name": buyer.title(), "email": f"{buyer}@x.example"},
        "product_type": "tee",
        "product_category": "cut-and-sew",
        "quantity": 10 + n,
        "currency": "EUR",
        "unit_price": "3.50",
        "target_date": str(date.today() + timedelta(days=30 + n)),
    }
    return {**body, **over}


async def place(api: Any, buyer: str, n: int, **over: Any) -> httpx.Response:
    settings, http = api
    return await http.post(
        "/v1/orders", json=order(buyer, n, **over), headers=auth(settings, "buyer", buyer)
    )


async def test_access_rules(api) -> None:  # type: ignore[no-untyped-def]
    settings, http = api
    assert (await place(api, "alice", 1)).status_code == 201
    oid = f"{RUN}-alice-1"
    assert (
        await http.get(f"/v1/orders/{oid}", headers=auth(settings, "buyer", "alice"))
    ).status_code == 200
    other = await http.get(f"/v1/orders/{oid}", headers=auth(settings, "buyer", "bob"))
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    no_token = await http.get(f"/v1/orders/{oid}")
    assert no_token.status_code == 401 and "Bearer" in no_token.json()["detail"]
    for_someone_else = await http.post(
        "/v1/orders", json=order("carol", 1), headers=auth(settings, "buyer", "alice")
    )
    assert for_someone_else.status_code == 403

    admin = auth(settings, "admin", "ops")
    assign = {"supplier": {"id": "sup-1", "name": "Sew Co"}}
    assert (
        await http.post(f"/v1/orders/{oid}/assign", json=assign, headers=admin)
    ).status_code == 200
    supplier = auth(settings, "supplier", "sup-1")
    assert (await http.get(f"/v1/orders/{oid}", headers=supplier)).status_code == 200
    assert (
        await http.get(f"/v1/orders/{oid}", headers=auth(settings, "supplier", "sup-2"))
    ).status_code == 404
    read_only = await http.post(f"/v1/orders/{oid}/cancel", json={"reason": "x"}, headers=supplier)
    assert read_only.status_code == 403 and "read-only" in read_only.json()["detail"]
    listed = await http.get("/v1/orders", headers=supplier)
    assert [o["id"] for o in listed.json()["items"]] == [oid]


async def test_bad_input_names_the_field(api) -> None:  # type: ignore[no-untyped-def]
    negative = await place(api, "dan", 1, quantity=-3)
    assert negative.status_code == 422
    assert any(e["field"] == "quantity" for e in negative.json()["errors"])
    currency = await place(api, "dan", 2, currency="ZZZ")
    assert currency.status_code == 422 and "ZZZ" in currency.json()["detail"]
    assert (await place(api, "dan", 3)).status_code == 201
    again = await place(api, "dan", 3)  # the same order again: idempotent
    assert again.status_code == 201 and again.json()["version"] == 1
    clash = await place(api, "dan", 3, quantity=999)
    assert clash.status_code == 409 and "quantity" in clash.json()["detail"]


async def test_if_match_refuses_a_stale_version(api) -> None:  # type: ignore[no-untyped-def]
    settings, http = api
    created = await place(api, "erin", 1)
    oid, etag = created.json()["id"], created.headers["ETag"]
    buyer = auth(settings, "buyer", "erin")
    stale = await http.post(
        f"/v1/orders/{oid}/cancel", json={"reason": "x"}, headers={**buyer, "If-Match": '"7"'}
    )
    assert stale.status_code == 412 and "version 1, not 7" in stale.json()["detail"]
    bad = await http.post(
        f"/v1/orders/{oid}/cancel", json={"reason": "x"}, headers={**buyer, "If-Match": "nope"}
    )
    assert bad.status_code == 422
    ok = await http.post(
        f"/v1/orders/{oid}/cancel",
        json={"reason": "buyer withdrew"},
        headers={**buyer, "If-Match": etag},
    )
    assert ok.status_code == 200 and ok.json()["workflow_status"] == "cancelled"
    assert ok.headers["ETag"] == '"2"'
    again = await http.post(f"/v1/orders/{oid}/cancel", json={"reason": "x"}, headers=buyer)
    assert again.status_code == 200 and again.headers["ETag"] == '"2"'  # cancelling twice: no-op
    closed = await http.post(f"/v1/orders/{oid}/delivery", headers=buyer)
    assert closed.status_code == 409 and "Allowed next: none" in closed.json()["detail"]


async def test_filters_and_summary(api) -> None:  # type: ignore[no-untyped-def]
    settings, http = api
    for n in range(1, 4):
        assert (await place(api, "fay", n)).status_code == 201
    admin = auth(settings, "admin", "ops")
    await http.post(
        f"/v1/orders/{RUN}-fay-1/assign",
        json={"supplier": {"id": "sup-f", "name": "F"}},
        headers=admin,
    )
    get = lambda **q: http.get("/v1/orders", params={"buyer_id": "fay", **q}, headers=admin)  # noqa: E731
    assert {o["id"] for o in (await get(supplier_id="sup-f")).json()["items"]} == {f"{RUN}-fay-1"}
    assert len((await get(status="placed")).json()["items"]) == 2
    window = (await get(target_from=str(date.today() + timedelta(days=32)))).json()["items"]
    assert {o["id"] for o in window} == {f"{RUN}-fay-2", f"{RUN}-fay-3"}
    by_prefix = await http.get(
        "/v1/orders", params={"number_prefix": f"PO-{RUN}-fay-00"}, headers=admin
    )
    assert len(by_prefix.json()["items"]) == 3
    assert (await get(delayed_only="true")).json()["items"] == []
    fay = await http.get("/v1/orders/summary", headers=auth(settings, "buyer", "fay"))
    assert fay.json() == {"total": 3, "in_production": 0, "completed": 0, "delayed": 0}
    bad = await get(status="shipping")
    assert bad.status_code == 422 and "status" in bad.json()["detail"]


@pytest.mark.parametrize("sort", ["-created_at", "target_date", "order_number"])
async def test_keyset_pages_have_no_duplicates_or_gaps_while_orders_arrive(api, sort: str) -> None:  # type: ignore[no-untyped-def]
    settings, http = api
    buyer = f"gil{sort.strip('-')[:3]}"
    for n in range(20):
        assert (await place(api, buyer, n)).status_code == 201
    seen: list[str] = []
    cursor, extra = None, 100
    while True:
        params = {"limit": 6, "sort": sort, **({"cursor": cursor} if cursor else {})}
        page = (
            await http.get("/v1/orders", params=params, headers=auth(settings, "buyer", buyer))
        ).json()
        seen += [o["id"] for o in page["items"]]
        await place(api, buyer, extra)  # a new order arrives between pages
        extra += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    originals = [i for i in seen if int(i.rsplit("-", 1)[1]) < 100]
    assert len(seen) == len(set(seen)), "a page repeated an order"
    assert sorted(originals) == sorted(f"{RUN}-{buyer}-{n}" for n in range(20)), (
        "an order was skipped"
    )
    mixed = await http.get(
        "/v1/orders",
        params={"cursor": cursor or "eA==", "sort": "order_number"},
        headers=auth(settings, "buyer", buyer),
    )
    assert mixed.status_code == 422


async def test_bulk_status_update_is_per_item(api) -> None:  # type: ignore[no-untyped-def]
    settings, http = api
    for n in (1, 2, 3):
        assert (await place(api, "hal", n)).status_code == 201
    admin = auth(settings, "admin", "ops")
    items = [
        {"order_id": f"{RUN}-hal-1", "to_status": "cancelled", "reason": "duplicate"},
        {"order_id": f"{RUN}-hal-2", "to_status": "shipped"},
        {"order_id": f"{RUN}-hal-3", "to_status": "cancelled", "version": 5},
        {"order_id": "nope", "to_status": "cancelled"},
    ]
    results = (
        await http.post("/v1/orders/bulk-status", json={"items": items}, headers=admin)
    ).json()
    assert [r["ok"] for r in results] == [True, False, False, False]
    assert results[0]["workflow_status"] == "cancelled" and results[0]["version"] == 2
    assert [r["rule"] for r in results[1:]] == ["invalid_transition", "stale_version", "not_found"]
    assert "Allowed next" in results[1]["error"]
    untouched = await http.get(f"/v1/orders/{RUN}-hal-2", headers=admin)
    assert untouched.json()["workflow_status"] == "placed"
    history = (await http.get(f"/v1/orders/{RUN}-hal-1/history", headers=admin)).json()
    assert [h["to_status"] for h in history] == ["placed", "cancelled"]
    assert history[-1]["cause"] == "http:admin:ops" and history[-1]["reason"] == "duplicate"
    buyer = await http.post(
        "/v1/orders/bulk-status", json={"items": items[:1]}, headers=auth(settings, "buyer", "hal")
    )
    assert buyer.status_code == 403
