"""Buyers read their own orders' inspections and set AQLs; plans say where each value came from."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def ids() -> tuple[str, str, str]:
    return str(uuid.uuid4()), f"sup-{uuid.uuid4().hex[:8]}", f"buy-{uuid.uuid4().hex[:8]}"


def by_class(plans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["defect_class"]: p for p in plans}


async def test_buyers_read_only_their_own_orders_inspections(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup, buyer = ids()
    await kit.feed(kit.initialized(oid, sup, buyer), kit.qc_completed(oid))
    own, other = kit.auth("buyer", buyer), kit.auth("buyer", "buy-someone-else")

    listed = await kit.http.get(f"/v1/orders/{oid}/inspections", headers=own)
    assert listed.status_code == 200
    (inspection,) = listed.json()["items"]
    one = await kit.http.get(f"/v1/inspections/{inspection['id']}", headers=own)
    assert one.status_code == 200 and one.json()["order_id"] == oid

    for url in (f"/v1/orders/{oid}/inspections", f"/v1/inspections/{inspection['id']}"):
        refused = await kit.http.get(url, headers=other)
        assert refused.status_code == 404, url
        assert "visible to you" in refused.json()["detail"]
    maker = await kit.http.get(f"/v1/orders/{oid}/inspections", headers=kit.auth("supplier", sup))
    assert maker.status_code == 200


async def test_an_order_without_a_buyer_is_hidden_from_buyers(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup, _ = ids()
    await kit.feed(kit.initialized(oid, sup, None))
    r = await kit.http.get(f"/v1/orders/{oid}/inspections", headers=kit.auth("buyer", "b-1"))
    assert r.status_code == 404


async def test_order_override_beats_buyer_default_beats_settings(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup, buyer = ids()
    sibling = str(uuid.uuid4())
    await kit.feed(kit.initialized(oid, sup, buyer), kit.initialized(sibling, sup, buyer))
    own = kit.auth("buyer", buyer)
    r = await kit.http.put(f"/v1/buyers/{buyer}/aql", json={"minor": "6.5"}, headers=own)
    assert r.status_code == 200, r.text
    assert r.json()["effective"]["sources"] == {
        "critical": "settings", "major": "settings", "minor": "buyer", "level": "settings"}  # fmt: skip
    r = await kit.http.put(f"/v1/orders/{oid}/aql", json={"major": "1.5"}, headers=own)
    assert r.status_code == 200, r.text
    assert r.json()["effective"] | {"sources": None} == {
        "critical": "0", "major": "1.5", "minor": "6.5", "level": "II", "sources": None}  # fmt: skip

    await kit.feed(kit.qc_completed(oid), kit.qc_completed(sibling))
    (scheduled,) = await kit.events(oid, "quality.inspection_scheduled")
    major = by_class(scheduled["plans"])["major"]
    assert (major["aql"], major["code_letter"], major["accept"], major["reject"]) == (
        "1.5", "H", 2, 3)  # fmt: skip
    (row,) = (await kit.http.get(f"/v1/orders/{oid}/inspections", headers=own)).json()["items"]
    assert row["plan"]["sources"] == {
        "critical": "settings", "major": "order", "minor": "buyer", "level": "settings"}  # fmt: skip
    minor = by_class(row["plan"]["classes"])["minor"]
    assert (minor["aql"], minor["accept"], minor["reject"]) == ("6.5", 7, 8)

    (other,) = await kit.events(sibling, "quality.inspection_scheduled")  # the buyer's default only
    plans = by_class(other["plans"])
    assert (plans["major"]["aql"], plans["major"]["accept"], plans["minor"]["aql"]) == (
        "2.5",
        3,
        "6.5",
    )


async def test_who_may_set_aqls(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup, buyer = ids()
    await kit.feed(kit.initialized(oid, sup, buyer))
    body = {"major": "1.0"}
    cases = [
        (f"/v1/buyers/{buyer}/aql", kit.auth("buyer", "buy-other"), 404),  # not yours = not there
        (f"/v1/buyers/{buyer}/aql", kit.auth("admin", "boss"), 200),
        (f"/v1/orders/{oid}/aql", kit.auth("buyer", "buy-other"), 404),
        (f"/v1/orders/{oid}/aql", kit.auth("inspector"), 403),
        (f"/v1/orders/{oid}/aql", kit.auth("supplier", sup), 403),
        (f"/v1/orders/{oid}/aql", kit.auth("admin", "boss"), 200),
        (f"/v1/orders/{uuid.uuid4()}/aql", kit.auth("admin", "boss"), 404),
    ]
    for url, headers, status in cases:
        r = await kit.http.put(url, json=body, headers=headers)
        assert r.status_code == status, (url, headers, r.text)


async def test_aqls_outside_the_standard_are_refused_with_the_valid_values(kit) -> None:  # type: ignore[no-untyped-def]
    oid, sup, buyer = ids()
    await kit.feed(kit.initialized(oid, sup, buyer))
    own = kit.auth("buyer", buyer)
    bad_aql = await kit.http.put(f"/v1/orders/{oid}/aql", json={"major": "3"}, headers=own)
    assert bad_aql.status_code == 422
    assert "AQL '3' is not in the ISO 2859-1 series" in bad_aql.json()["detail"]
    assert "1.5, 2.5, 4.0" in bad_aql.json()["detail"]
    bad_level = await kit.http.put(f"/v1/buyers/{buyer}/aql", json={"level": "IV"}, headers=own)
    assert bad_level.status_code == 422
    assert "inspection level 'IV' is unknown" in bad_level.json()["detail"]
    assert "S-1, S-2, S-3, S-4, I, II, III" in bad_level.json()["detail"]
    after = await kit.http.get(f"/v1/orders/{oid}/aql", headers=own)
    assert after.json()["override"] == {
        "critical": None,
        "major": None,
        "minor": None,
        "level": None,
    }
