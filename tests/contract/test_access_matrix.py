"""The access matrix, generated from every service's routes: route × role × (own, other's).

Two orders exist in every service (fed as the facts the services exchange): O-own (buyer
``b-own``, supplier ``s-own``) and O-other (``b-other`` / ``s-other``). Each route is called
by every role, once with the caller's own object and once with someone else's, and the answer
must be what the route's documented roles (``x-roles``) and the ownership rule say:

- no token: 401; a role the route does not list: 403;
- a non-admin with someone else's object: never a 2xx; 404 (not yours looks like not there),
  or 403 when the role gets 403 for its own object too (the route is not for that role);
- a non-admin reading its own object on a route it may use: 200; an admin: 200 for both;
- never a 5xx.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import routing

from looptrace_shared.envelope import new_envelope
from looptrace_shared.events import orders as oev
from looptrace_shared.events import production as pev
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.testing import bearer, unique_topic_suffix

pytestmark = pytest.mark.integration

RUN = unique_topic_suffix()[-6:]
OWN, OTHER = f"o-own-{RUN}", f"o-other-{RUN}"
PARTIES = {OWN: ("b-own", "s-own"), OTHER: ("b-other", "s-other")}
ROLES = ("buyer", "supplier", "inspector", "admin", None)
SUBJECT = {"buyer": "b-own", "supplier": "s-own", "inspector": "qc-1", "admin": "ops-1"}
# a buyer may read any supplier's working calendar (to see when its orders can be made)
SHARED_WITH = {("GET", "/v1/suppliers/{supplier_id}/calendar"): {"buyer"}}
SKIP = {"/v1/stream", "/health", "/metrics"}
# routes that answer only with their required query (added to both calls)
QUERIES = {
    "/v1/suppliers/candidates": "?category=knitwear&quantity=500&target_date="
    + str(date.today() + timedelta(days=90)),
}


def facts(order_id: str) -> list[Any]:
    buyer, supplier = PARTIES[order_id]
    target = date.today() + timedelta(days=90)
    common = dict(
        order_id=order_id, order_number=f"N-{order_id}",
        buyer=oev.Party(id=buyer, name=buyer, email=f"{buyer}@x.example"),
        product_category="knitwear", quantity=500, target_date=target,
    )  # fmt: skip
    stage = pev.PlannedStage(
        stage_number=1, stage_name="Knitting", status="pending",
        planned_start=target - timedelta(days=30), planned_end=target - timedelta(days=20),
    )  # fmt: skip
    party = oev.Party(id=supplier, name=supplier, email=f"{supplier}@x.example")
    return [
        ("orders.events.v1", "order.created",
         oev.OrderCreated(**common, workflow_status="placed", currency="EUR", unit_price=1)),
        ("orders.events.v1", "order.supplier_assigned",
         oev.OrderSupplierAssigned(**common, supplier=party, assigned_by="ops")),
        ("production.events.v1", "production.stages_initialized",
         pev.StagesInitialized(
             order_id=order_id, order_number=f"N-{order_id}", supplier_id=supplier,
             product_category="knitwear", target_date=target, projected_completion=target,
             at_risk=False, stages=[stage], quantity=500, buyer_id=buyer)),
    ]  # fmt: skip


async def seed(app: Any, settings: Any, http: Any, service: str) -> None:
    if service == "orders":
        await seed_orders(settings, http)
        return
    offset = 0
    for order_id in (OWN, OTHER):
        for processor in app.state.runtime.processors:
            records = []
            for topic, type_, data in facts(order_id):
                if topic in processor.group.topics:
                    offset += 1
                    env = new_envelope(type_, "test", order_id, data)
                    records.append(Record(topic, 0, offset, env.key(), env.to_bytes()))
            if records:
                await processor.process(records)


async def seed_orders(settings: Any, http: Any) -> None:
    admin = bearer(settings, "admin", "ops-1")
    for order_id, (buyer, supplier) in PARTIES.items():
        body = {
            "order_id": order_id, "order_number": f"N-{order_id}",
            "buyer": {"id": buyer, "name": buyer}, "product_type": "tee",
            "product_category": "knitwear", "quantity": 500, "currency": "EUR",
            "unit_price": "3.50", "supplier_cost": "2.00",
            "target_date": str(date.today() + timedelta(days=90)),
        }  # fmt: skip
        assert (await http.post("/v1/orders", json=body, headers=admin)).status_code == 201
        assign = {"supplier": {"id": supplier, "name": supplier}}
        r = await http.post(f"/v1/orders/{order_id}/assign", json=assign, headers=admin)
        assert r.status_code == 200, r.text


def fill(path: str, order_id: str) -> str:
    buyer, supplier = PARTIES[order_id]
    values = {"order_id": order_id, "order_ref": order_id, "buyer_id": buyer,
              "supplier_id": supplier, "stage": "1"}  # fmt: skip
    filled = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x-1"), path)
    return filled + QUERIES.get(path, "")


OWNABLE = {
    "buyer": {"order_id", "order_ref", "buyer_id"},
    "supplier": {"order_id", "order_ref", "supplier_id"},
}
STAFF = {"quality": {"inspector"}}  # inspectors see every order's quality records


def params(path: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", path))


def owned(path: str, role: str) -> bool:
    """Every path parameter names the caller's own object (not a child such as a photo)."""
    return bool(params(path)) and params(path) <= OWNABLE.get(role, set())


def routes(app: Any) -> list[tuple[str, str, list[str]]]:
    doc = app.openapi()["paths"]
    out = []
    for route in routing.iter_route_contexts(app.routes):
        if not hasattr(route, "dependant") or route.path_format in SKIP:
            continue
        for method in route.methods:
            roles = doc[route.path_format][method.lower()].get("x-roles")
            if roles:
                out.append((method, route.path_format, roles))
    return out


def expect(service: str, method: str, path: str, roles: list[str], role: str | None,
           mine: int, other: int) -> str | None:  # fmt: skip
    """What is wrong with the (own, someone else's) answers ``mine`` / ``other``, or None."""
    if mine >= 500 or other >= 500:
        return "server error"
    if role is None:
        return None if mine == other == 401 else "no token must be 401"
    if roles != ["any"] and role not in roles:
        return None if mine == other == 403 else f"role not in {roles} must be 403"
    if role == "admin" or role in STAFF.get(service, set()):
        readable = method != "GET" or not params(path) <= {"order_id", "order_ref", "buyer_id",
                                                          "supplier_id"}  # fmt: skip
        return None if readable or mine == other == 200 else "staff must read every object"
    if role in SHARED_WITH.get((method, path), set()) or not params(path):
        return None  # lists are narrowed to the caller's own: test_lists_show_only_own
    if not owned(path, role):
        return None if mine >= 400 and other >= 400 else "not the caller's object: 2xx"
    if 200 <= other < 300:
        return "someone else's object answered 2xx"
    if other not in (404, 422) and not (other == 403 and mine == 403):
        return f"someone else's object must be 404, got {other}"
    if method == "GET" and mine not in (200, 403):
        return f"own object must be readable (200), got {mine}"
    return None


async def test_access_matrix(running_service: Any) -> None:
    service, app, settings = running_service.name, running_service.app, running_service.settings
    http = running_service.http
    wrong, cells = [], 0
    await seed(app, settings, http, service)
    for method, path, roles in routes(app):
        if "{" not in path and method != "GET":
            continue  # bodies without an object: covered by schemathesis
        for role in ROLES:
            headers = bearer(settings, role, SUBJECT[role]) if role else {}
            answers = []
            for order_id in (OWN, OTHER):
                kw = {"json": {}} if method in ("POST", "PUT") else {}
                r = await http.request(method, fill(path, order_id), headers=headers, **kw)
                answers.append(r.status_code)
            cells += 2
            why = expect(service, method, path, roles, role, *answers)
            if why:
                wrong.append(f"{method} {path} as {role}: own {answers[0]}, other "
                                 f"{answers[1]}: {why}")  # fmt: skip
    print(f"\naccess matrix {service}: {cells} cells, {len(wrong)} wrong ({datetime.now(UTC):%T})")
    assert cells > 10
    assert not wrong, "\n".join(wrong)
