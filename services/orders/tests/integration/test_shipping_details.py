"""Shipping details on shipments over HTTP and Kafka: validation, ETA updates re-projecting the
order's delivery, access by role (real PostgreSQL and broker)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from looptrace_shared.testing import eventually, order_envelopes

pytestmark = pytest.mark.integration

TODAY = date.today()


def sea(qty: int, eta_days: int, tracking: str = "MAEU1") -> dict[str, Any]:
    return {
        "carrier": "Maersk", "tracking_number": tracking, "quantity_shipped": qty,
        "mode": "sea", "container_number": "CSQU3054383", "seal_number": "SL-889",
        "port_of_loading": "cnsha", "port_of_discharge": "DEHAM",
        "estimated_departure": str(TODAY + timedelta(days=2)),
        "estimated_arrival": str(TODAY + timedelta(days=eta_days)),
    }  # fmt: skip


async def test_details_are_kept_and_the_latest_eta_projects_delivery(running, shippable) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=100)
    http, admin = running.http, running.admin
    r = await http.post(f"/v1/orders/{oid}/shipments", json=sea(40, 30, "A"), headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["expected_delivery_date"] == str(TODAY + timedelta(days=30))
    r = await http.post(f"/v1/orders/{oid}/shipments", json=sea(60, 25, "B"), headers=admin)
    assert r.json()["workflow_status"] == "shipped"  # partial shipments add up as before
    assert r.json()["expected_delivery_date"] == str(TODAY + timedelta(days=30))

    listed = (await http.get(f"/v1/orders/{oid}/shipments", headers=admin)).json()
    assert [s["tracking_number"] for s in listed] == ["A", "B"]
    assert listed[0]["port_of_loading"] == "CNSHA" and listed[0]["mode"] == "sea"
    assert listed[0]["container_number"] == "CSQU3054383" and listed[0]["updates"] == []

    later = str(TODAY + timedelta(days=41))
    patch = {"estimated_arrival": later, "reason": "port congestion"}
    r = await http.patch(f"/v1/orders/{oid}/shipments/{listed[1]['id']}", json=patch, headers=admin)
    assert r.status_code == 200, r.text
    update = r.json()[1]["updates"][0]
    assert update["previous_arrival"] == str(TODAY + timedelta(days=25))
    assert update["estimated_arrival"] == later and update["reason"] == "port congestion"
    assert (await running.order(oid))["expected_delivery_date"] == later

    envs = await order_envelopes(
        running.settings.kafka_bootstrap_servers, "orders.events.v1", oid, want=4
    )
    updated = [e["data"] for e in envs if e["type"] == "order.shipment_updated"]
    assert updated and updated[0]["expected_delivery_date"] == later
    assert updated[0]["previous_expected_delivery_date"] == str(TODAY + timedelta(days=30))


async def test_a_carrier_feed_updates_the_eta_by_tracking_number(running, shippable) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10)
    http, admin = running.http, running.admin
    assert (
        await http.post(f"/v1/orders/{oid}/shipments", json=sea(10, 20, "TRK-9"), headers=admin)
    ).status_code == 200
    new_eta = str(TODAY + timedelta(days=22))
    await running.fact(
        "ShipmentUpdated", oid, {"tracking_number": "TRK-9", "estimated_arrival": new_eta}
    )

    async def moved() -> bool:
        return (await running.order(oid))["expected_delivery_date"] == new_eta

    await eventually(moved)
    listed = (await http.get(f"/v1/orders/{oid}/shipments", headers=admin)).json()
    assert listed[0]["estimated_arrival"] == new_eta
    assert listed[0]["updates"][0]["cause"].startswith("event:ShipmentUpdated")


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"mode": "teleport"}, "unknown_shipping_mode"),
        ({"container_number": "CSQU3054384"}, "invalid_container_number"),  # wrong check digit
        ({"container_number": "CSQ3054383"}, "invalid_container_number"),
        ({"mode": "air"}, "container_not_for_mode"),  # air freight has no container
        ({"port_of_loading": "Shanghai"}, "invalid_port"),
        ({"port_of_discharge": "CNSHA"}, "invalid_port"),  # same port at both ends
        ({"estimated_arrival": str(TODAY)}, "arrival_before_departure"),
    ],
)
async def test_bad_details_are_a_422_naming_the_rule(running, shippable, change, rule) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10)
    r = await running.http.post(
        f"/v1/orders/{oid}/shipments", json={**sea(5, 20), **change}, headers=running.admin
    )
    assert r.status_code == 422, r.text
    assert r.json()["rule"] == rule
    listed = await running.http.get(f"/v1/orders/{oid}/shipments", headers=running.admin)
    assert listed.json() == []  # nothing half-recorded


async def test_an_update_without_dates_or_arriving_before_departure_is_refused(
    running, shippable
) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10)
    http, admin = running.http, running.admin
    await http.post(f"/v1/orders/{oid}/shipments", json=sea(10, 20), headers=admin)
    sid = (await http.get(f"/v1/orders/{oid}/shipments", headers=admin)).json()[0]["id"]
    r = await http.patch(f"/v1/orders/{oid}/shipments/{sid}", json={}, headers=admin)
    assert r.status_code == 422
    early = {"estimated_arrival": str(TODAY + timedelta(days=1))}  # departs in 2 days
    r = await http.patch(f"/v1/orders/{oid}/shipments/{sid}", json=early, headers=admin)
    assert r.status_code == 422 and r.json()["rule"] == "arrival_before_departure"
    r = await http.patch(f"/v1/orders/{oid}/shipments/{sid + 10**6}", json=early, headers=admin)
    assert r.status_code == 404


async def test_shipments_are_seen_by_the_order_s_parties_and_changed_by_admins(
    running, shippable
) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10, buyer="b-7", supplier="s-7")
    http = running.http
    await http.post(f"/v1/orders/{oid}/shipments", json=sea(10, 20), headers=running.admin)
    for role, subject, status in [
        ("buyer", "b-7", 200), ("supplier", "s-7", 200),
        ("buyer", "b-8", 404), ("supplier", "s-8", 404), ("inspector", "i-1", 404),
    ]:  # fmt: skip
        r = await http.get(f"/v1/orders/{oid}/shipments", headers=running.as_(role, subject))
        assert r.status_code == status, (role, subject, r.text)
    sid = (await http.get(f"/v1/orders/{oid}/shipments", headers=running.admin)).json()[0]["id"]
    late = {"estimated_arrival": str(TODAY + timedelta(days=50))}
    for role, subject in [("buyer", "b-7"), ("supplier", "s-7")]:
        r = await http.patch(
            f"/v1/orders/{oid}/shipments/{sid}", json=late, headers=running.as_(role, subject)
        )
        assert r.status_code == 403, r.text
