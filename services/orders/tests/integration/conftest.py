"""A running orders service (real PostgreSQL, real broker) and orders brought to where goods
may ship, for the shipping, invoice and retention tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from looptrace_orders.app import create_app
from looptrace_orders.config import OrdersSettings
from looptrace_shared.envelope import new_envelope
from looptrace_shared.testing import bearer, broker_settings, eventually, serving


@dataclass
class Running:
    settings: OrdersSettings
    http: httpx.AsyncClient
    producer: AIOKafkaProducer

    def as_(self, role: str, subject: str) -> dict[str, str]:
        return bearer(self.settings, role, subject)

    @property
    def admin(self) -> dict[str, str]:
        return self.as_("admin", "ops")

    async def fact(self, type_: str, oid: str, data: dict[str, Any]) -> None:
        env = new_envelope(type_, "test", oid, {"order_id": oid, "order_number": "x", **data})
        topic = "production.events.v1" if type_.startswith("production.") else "orders.inbound.v1"
        await self.producer.send_and_wait(topic, env.to_bytes(), key=oid.encode())

    async def order(self, oid: str) -> dict[str, Any]:
        r = await self.http.get(f"/v1/orders/{oid}", headers=self.admin)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
async def running(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Running]:
    settings = OrdersSettings(**broker_settings(database_url, kafka_bootstrap))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    async with serving(create_app(settings)) as http:
        yield Running(settings, http, producer)
    await producer.stop()


Shippable = Callable[..., Awaitable[str]]


@pytest.fixture
def shippable(running: Running) -> Shippable:
    """Place an order (buyer b-1, supplier s-1), assign it, pass its QC gate: goods may ship."""

    async def make(
        quantity: int = 100, unit_price: str = "3.50", cost: str | None = "2.10",
        currency: str = "EUR", buyer: str = "b-1", supplier: str = "s-1",
    ) -> str:  # fmt: skip
        oid = str(uuid.uuid4())
        body = {
            "order_id": oid, "order_number": f"PO-{oid[:13]}",
            "buyer": {"id": buyer, "name": "B"}, "product_type": "tee",
            "product_category": "knitwear", "quantity": quantity, "currency": currency,
            "unit_price": unit_price, "supplier_cost": cost,
            "target_date": str(date.today() + timedelta(days=60)),
        }  # fmt: skip
        http, admin = running.http, running.admin
        assert (await http.post("/v1/orders", json=body, headers=admin)).status_code == 201
        supplier_body = {"supplier": {"id": supplier, "name": "S"}}
        r = await http.post(f"/v1/orders/{oid}/assign", json=supplier_body, headers=admin)
        assert r.status_code == 200, r.text
        gate = {"inspection_ids": ["i-1"], "passed_at": datetime.now(UTC).isoformat()}
        await running.fact("production.quality_gate_passed", oid, gate)

        async def open_gate() -> bool:
            return bool((await running.order(oid))["qc_gate_passed"])

        await eventually(open_gate)
        return oid

    return make
