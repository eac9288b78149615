"""Invoices over HTTP on partial shipments: exact amounts, gapless numbers, status moves,
what each role sees (real PostgreSQL and broker)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def shipment(qty: int, tracking: str) -> dict[str, Any]:
    return {"carrier": "DHL", "tracking_number": tracking, "quantity_shipped": qty}


async def ship_in_parts(running, oid: str, parts: list[int]) -> None:  # type: ignore[no-untyped-def]
    for n, qty in enumerate(parts):
        r = await running.http.post(
            f"/v1/orders/{oid}/shipments", json=shipment(qty, f"T{n}"), headers=running.admin
        )
        assert r.status_code == 200, r.text


async def invoices(running, oid: str, role: str = "admin", subject: str = "ops") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await running.http.get(f"/v1/orders/{oid}/invoices", headers=running.as_(role, subject))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_partial_shipments_are_invoiced_exactly(running, shippable) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=1000, unit_price="3.3333", cost="2.0001", currency="USD")
    parts = [1, 333, 666]
    await ship_in_parts(running, oid, parts)
    got = await invoices(running, oid)
    buyer = [i for i in got["invoices"] if i["kind"] == "buyer"]
    supplier = [i for i in got["invoices"] if i["kind"] == "supplier"]
    assert [i["quantity"] for i in buyer] == parts == [i["quantity"] for i in supplier]
    assert [Decimal(i["amount"]) for i in buyer] == [Decimal("3.3333") * q for q in parts]
    assert Decimal(got["invoiced_to_buyer"]) == Decimal("3333.3000")  # = price × 1000, exact
    assert Decimal(got["invoiced_by_supplier"]) == Decimal("2000.1000")
    assert Decimal(got["realised_margin"]) == Decimal("1333.2000")
    assert got["currency"] == "USD" and {i["status"] for i in got["invoices"]} == {"draft"}
    order = await running.order(oid)
    assert Decimal(got["realised_margin"]) == Decimal(order["margin"])  # fully shipped


async def test_numbers_are_unique_and_gapless_per_series(running, shippable) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10)
    await ship_in_parts(running, oid, [3, 3, 4])
    got = (await invoices(running, oid))["invoices"]
    for prefix in ("INV", "SUP"):
        numbers = [i["number"] for i in got if i["number"].startswith(prefix)]
        serials = [int(n.rsplit("-", 1)[1]) for n in numbers]
        assert serials == list(range(serials[0], serials[0] + 3)), numbers


async def test_status_moves_follow_the_rules(running, shippable) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10)
    await ship_in_parts(running, oid, [4, 6])
    first, second = [
        i["number"] for i in (await invoices(running, oid))["invoices"] if i["kind"] == "buyer"
    ]
    http, admin = running.http, running.admin

    async def move(number: str, status: str, reason: str | None = None) -> Any:
        body = {"status": status, **({"reason": reason} if reason else {})}
        return await http.post(
            f"/v1/orders/{oid}/invoices/{number}/status", json=body, headers=admin
        )

    r = await move(first, "paid")
    assert r.status_code == 409 and r.json()["rule"] == "invalid_invoice_transition"
    assert "Allowed next: issued, void" in r.json()["detail"]
    assert (await move(first, "issued")).json()["issued_at"] is not None
    paid = (await move(first, "paid")).json()
    assert paid["status"] == "paid" and paid["paid_at"] is not None
    r = await move(first, "void", "typo")
    assert r.status_code == 409 and "final" in r.json()["detail"]
    r = await move(second, "void")
    assert r.status_code == 422 and r.json()["rule"] == "void_without_reason"
    assert (await move(second, "void", "wrong quantity")).json()["void_reason"] == "wrong quantity"
    got = await invoices(running, oid)
    assert Decimal(got["invoiced_to_buyer"]) == Decimal("3.50") * 4  # the void one left out
    assert Decimal(got["realised_margin"]) == Decimal("3.50") * 4 - Decimal("2.10") * 10
    r = await move("INV-1999-000001", "issued")
    assert r.status_code == 404
    r = await http.post(
        f"/v1/orders/{oid}/invoices/{first}/status", json={"status": "lost"}, headers=admin
    )
    assert r.status_code == 422


async def test_each_role_sees_only_its_own_side(running, shippable) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10, buyer="b-5", supplier="s-5")
    await ship_in_parts(running, oid, [10])
    buyer = await invoices(running, oid, "buyer", "b-5")
    assert [i["kind"] for i in buyer["invoices"]] == ["buyer"]
    assert buyer["invoiced_by_supplier"] is None and buyer["realised_margin"] is None
    assert Decimal(buyer["invoiced_to_buyer"]) == Decimal("35.00")
    supplier = await invoices(running, oid, "supplier", "s-5")
    assert [i["kind"] for i in supplier["invoices"]] == ["supplier"]
    assert supplier["invoiced_to_buyer"] is None and supplier["realised_margin"] is None
    assert Decimal(supplier["invoiced_by_supplier"]) == Decimal("21.00")
    for role, subject in [("buyer", "b-6"), ("supplier", "s-6"), ("inspector", "i-1")]:
        r = await running.http.get(f"/v1/orders/{oid}/invoices", headers=running.as_(role, subject))
        assert r.status_code == 404
    number = buyer["invoices"][0]["number"]
    for role, subject in [("buyer", "b-5"), ("supplier", "s-5")]:
        r = await running.http.post(
            f"/v1/orders/{oid}/invoices/{number}/status", json={"status": "issued"},
            headers=running.as_(role, subject),
        )  # fmt: skip
        assert r.status_code == 403


async def test_without_a_known_cost_there_is_no_supplier_invoice_nor_margin(
    running, shippable
) -> None:  # type: ignore[no-untyped-def]
    oid = await shippable(quantity=10, cost=None)
    await ship_in_parts(running, oid, [10])
    got = await invoices(running, oid)
    assert [i["kind"] for i in got["invoices"]] == ["buyer"] and got["realised_margin"] is None
