"""The access rules the matrix cannot see: empty subjects, what lists show, commercial fields
by role, unambiguous order references, no cross-buyer oracle, inboxes keyed by role, tokens
that live too long. Each failed on the code before the hardening."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
import pytest

from looptrace_shared.testing import bearer, eventually

from .test_access_matrix import OTHER, OWN, seed

pytestmark = pytest.mark.integration

LIST_ROUTE = {
    "orders": "/v1/orders",
    "production": "/v1/orders/x-1/timeline",
    "quality": "/v1/orders/x-1/inspections",
    "notifications": "/v1/notifications",
    "predictions": "/v1/orders/x-1/risk",
}


def token(settings: Any, claims: dict[str, Any]) -> dict[str, str]:
    now = datetime.now(UTC)
    body = {"iss": settings.jwt_issuer, "iat": now, "exp": now + timedelta(hours=1), **claims}
    return {"Authorization": f"Bearer {jwt.encode(body, settings.jwt_secret, 'HS256')}"}


async def test_a_token_without_a_real_subject_or_living_too_long_is_refused(
    running_service: Any,
) -> None:
    s, http = running_service.settings, running_service.http
    url = LIST_ROUTE[running_service.name]
    for sub in ("", "   ", "\t", "a/b", "x" * 400):
        r = await http.get(url, headers=token(s, {"sub": sub, "role": "admin"}))
        assert r.status_code == 401, (sub, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    forever = {"sub": "ops-1", "role": "admin", "exp": datetime.now(UTC) + timedelta(days=30)}
    r = await http.get(url, headers=token(s, forever))
    assert r.status_code == 401 and "JWT_MAX_LIFETIME_S" in r.json()["detail"]


async def orders_of(http: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await http.get("/v1/orders", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def test_lists_show_only_own_and_money_by_role(running_service: Any) -> None:
    if running_service.name != "orders":
        pytest.skip("orders' list and prices")
    rs = running_service
    await seed(rs.app, rs.settings, rs.http, "orders")
    buyer = await orders_of(rs.http, bearer(rs.settings, "buyer", "b-own"))
    supplier = await orders_of(rs.http, bearer(rs.settings, "supplier", "s-own"))
    admin = await orders_of(rs.http, bearer(rs.settings, "admin", "ops-1"))
    assert {o["id"] for o in buyer} == {OWN} == {o["id"] for o in supplier}
    assert {OWN, OTHER} <= {o["id"] for o in admin}
    (b,), (p,) = buyer, supplier
    assert b["unit_price"] is not None and b["supplier_unit_cost"] is None and b["margin"] is None
    assert p["supplier_unit_cost"] is not None and p["unit_price"] is None and p["margin"] is None
    a = next(o for o in admin if o["id"] == OWN)
    assert None not in (a["unit_price"], a["supplier_unit_cost"], a["margin"])


def placed(order_id: str, number: str, buyer: str, **over: Any) -> dict[str, Any]:
    return {
        "order_id": order_id, "order_number": number, "buyer": {"id": buyer, "name": buyer},
        "product_type": "tee", "product_category": "knitwear", "quantity": 10,
        "currency": "EUR", "unit_price": "3.50",
        "target_date": str(date.today() + timedelta(days=60)), **over,
    }  # fmt: skip


async def test_order_references_are_unambiguous_and_conflicts_tell_nothing(
    running_service: Any,
) -> None:
    if running_service.name != "orders":
        pytest.skip("orders' references")
    s, http = running_service.settings, running_service.http
    alice, mallory = bearer(s, "buyer", "alice-r"), bearer(s, "buyer", "mallory-r")
    mine = placed("ref-a-1", "PO-ref-a-1", "alice-r", quantity=777, unit_price="9.99")
    assert (await http.post("/v1/orders", json=mine, headers=alice)).status_code == 201
    attempts = [
        placed("PO-ref-a-1", "PO-ref-m-1", "mallory-r"),  # an id that is Alice's number
        placed("ref-m-2", "ref-a-1", "mallory-r"),  # a number that is Alice's id
        placed("ref-a-1", "PO-ref-m-3", "mallory-r", quantity=1),  # Alice's id itself
    ]
    for body in attempts:
        r = await http.post("/v1/orders", json=body, headers=mallory)
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert "777" not in detail and "9.99" not in detail and "quantity" not in detail
        assert r.json()["rule"] == "order_reference_in_use"
    got = await http.get("/v1/orders/PO-ref-a-1", headers=alice)
    assert got.status_code == 200 and got.json()["id"] == "ref-a-1"
    assert (await http.get("/v1/orders/ref-a-1", headers=mallory)).status_code == 404
    own_clash = await http.post("/v1/orders", json={**mine, "quantity": 5}, headers=alice)
    assert own_clash.status_code == 409 and "quantity" in own_clash.json()["detail"]


async def test_buyer_may_not_set_the_supplier_cost(running_service: Any) -> None:
    if running_service.name != "orders":
        pytest.skip("orders' prices")
    s, http = running_service.settings, running_service.http
    body = placed("ref-c-1", "PO-ref-c-1", "carol-r", supplier_cost="0.01")
    r = await http.post("/v1/orders", json=body, headers=bearer(s, "buyer", "carol-r"))
    assert r.status_code == 403 and "supplier_cost" in r.json()["detail"]


async def test_inbox_and_preferences_are_keyed_by_role_and_subject(running_service: Any) -> None:
    if running_service.name != "notifications":
        pytest.skip("notifications' inbox")
    rs = running_service
    await seed(rs.app, rs.settings, rs.http, "notifications")
    buyer = bearer(rs.settings, "buyer", "b-own")
    twin = bearer(rs.settings, "supplier", "b-own")  # a supplier whose id equals the buyer's

    async def buyer_has_mail() -> bool:
        r = await rs.http.get("/v1/notifications", headers=buyer)
        return bool(r.json()["items"])

    await eventually(buyer_has_mail, timeout_s=30)
    assert (await rs.http.get("/v1/notifications", headers=twin)).json()["items"] == []
    assert (await rs.http.get("/v1/notifications/unread-count", headers=twin)).json() == {
        "unread": 0
    }
    prefs = {"mode": "daily_digest", "time_zone": "Asia/Dhaka"}
    assert (await rs.http.put("/v1/preferences", json=prefs, headers=buyer)).status_code == 200
    theirs = (await rs.http.get("/v1/preferences", headers=twin)).json()
    assert theirs["mode"] == "immediate" and theirs["time_zone"] == "UTC"
    bad_zone = await rs.http.put(
        "/v1/preferences", json={"time_zone": "Mars/Olympus"}, headers=buyer
    )
    assert bad_zone.status_code == 422 and "time_zone" in bad_zone.json()["detail"]
