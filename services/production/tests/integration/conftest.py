"""The production app in-process against the real broker and PostgreSQL, and helpers to drive it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from looptrace_production.app import create_app
from looptrace_production.config import ProductionSettings
from looptrace_shared.auth import mint_token
from looptrace_shared.envelope import Envelope, new_envelope
from looptrace_shared.events.orders import OrderSupplierAssigned, Party
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.topics import (
    ORDERS_EVENTS,
    PRODUCTION_EVENTS,
    PRODUCTION_PROGRESS,
    QUALITY_EVENTS,
)


def assignment(
    order_id: str,
    category: str,
    has_print: bool = True,
    supplier: str = "s-1",
    buyer: str = "b-1",
    days: int = 150,
    target: date | None = None,
) -> OrderSupplierAssigned:
    """``target``: the target date, else ``days`` from today."""
    return OrderSupplierAssigned(
        order_id=order_id,
        order_number=f"PO-{order_id[:8]}",
        buyer=Party(id=buyer, name="Buyer"),
        product_category=category,
        quantity=500,
        target_date=target or date.today() + timedelta(days=days),
        has_print=has_print,
        supplier=Party(id=supplier, name="Factory"),
        assigned_by="ops",
    )


def progress(
    order_id: str, stage: int | str, pct: float, at: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "stage": stage,
        "percentage": pct,
        "reported_at": at.isoformat(),
        **extra,
    }


@dataclass
class Kit:
    """Publish envelopes, read topics, poll HTTP."""

    bootstrap: str
    producer: AIOKafkaProducer

    async def send(
        self, type_: str, order_id: str, data: Any, topic: str, envelope_id: uuid.UUID | None = None
    ) -> Envelope:
        env = new_envelope(type_, "test", order_id, data)
        if envelope_id:
            env.id = envelope_id
        await self.producer.send_and_wait(topic, env.to_bytes(), key=order_id.encode())
        return env

    async def assign(self, a: OrderSupplierAssigned) -> None:
        await self.send("order.supplier_assigned", a.order_id, a, ORDERS_EVENTS)

    async def pass_inspection(self, order_id: str, stage: int, inspection_id: str) -> None:
        """Quality's word that the inspection of ``stage`` passed; returns once production
        heard it (the QC gate then lets later stages complete)."""
        data = {
            "order_id": order_id,
            "order_number": "x",
            "inspection_id": inspection_id,
            "stage_number": stage,
            "sample_inspected": 80,
            "defects_by_class": {},
            "summary": "accepted",
        }
        await self.send("quality.inspection_passed", order_id, data, QUALITY_EVENTS)

    async def gate_passed(self, order_id: str) -> None:
        found = await self.read(
            PRODUCTION_EVENTS,
            {order_id},
            lambda rs: any(b"production.quality_gate_passed" in r.value for r in rs),
        )
        assert any(b"production.quality_gate_passed" in r.value for r in found), "gate passed"

    async def report(self, data: dict[str, Any], envelope_id: uuid.UUID | None = None) -> Envelope:
        return await self.send(
            "ProgressReported", data["order_id"], data, PRODUCTION_PROGRESS, envelope_id
        )

    async def read(
        self, topic: str, subjects: set[str], done: Callable[[list[Any]], bool], timeout: float = 90
    ) -> list[Any]:
        """Records of ``subjects`` on ``topic`` (from the start) until ``done(records)`` holds."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
            enable_auto_commit=False,
        )
        await consumer.start()
        found: list[Any] = []
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while not done(found) and asyncio.get_running_loop().time() < deadline:
                for records in (await consumer.getmany(timeout_ms=300, max_records=5000)).values():
                    found += [r for r in records if r.key and r.key.decode() in subjects]
        finally:
            await consumer.stop()
        return found


def envelopes(records: list[Any]) -> list[Envelope]:
    return [Envelope.model_validate_json(r.value) for r in records]


def headers(record: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


async def until(
    probe: Callable[[], Any], check: Callable[[Any], bool], timeout: float = 30, what: str = ""
) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    value = None
    while asyncio.get_running_loop().time() < deadline:
        value = await probe()
        if check(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"condition not met: {what}; last value {json.dumps(value, default=str)[:2000]}"
    )


def record(type_: str, subject: str, data: Any, topic: str, offset: int = 0) -> Record:
    """An envelope as a consumer fetches it (for feeding a BatchProcessor directly)."""
    value = new_envelope(type_, "test", subject, data).to_bytes()
    return Record(topic, 0, offset, subject.encode(), value)


def stamp(base: datetime, n: int) -> datetime:
    return base + timedelta(seconds=n)


def an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


class Build:
    """The message builders, for tests that need no broker (fixture ``build``)."""


# tests reach the helpers through the fixtures (conftest is not importable under importlib mode)
for _helper in (assignment, progress, envelopes, headers, until, stamp, an_hour_ago, record):
    setattr(Kit, _helper.__name__, staticmethod(_helper))
    setattr(Build, _helper.__name__, staticmethod(_helper))


@pytest.fixture
def build() -> type[Build]:
    return Build


@pytest.fixture(scope="module")
async def kit(kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    await producer.start()
    yield Kit(kafka_bootstrap, producer)
    await producer.stop()


@dataclass
class Running:
    settings: ProductionSettings
    http: httpx.AsyncClient
    app: Any

    def token(self, role: str, subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(self.settings.jwt_secret, role, subject)}"}

    async def timeline(self, order_id: str, role: str = "admin", subject: str = "ops") -> Any:
        r = await self.http.get(
            f"/v1/orders/{order_id}/timeline", headers=self.token(role, subject)
        )
        return r.json() if r.status_code == 200 else None


@pytest.fixture(scope="module")
async def running(
    database_url: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
):  # type: ignore[no-untyped-def]
    settings = ProductionSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        photo_dir=Path(tmp_path_factory.mktemp("photos")),
        photo_max_bytes=200_000,
        document_dir=Path(tmp_path_factory.mktemp("documents")),
        document_max_bytes=100_000,
        sweep_interval_s=3600,
        utilisation_fold_s=0.3,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://production"
        )
        yield Running(settings, http, app)
        await http.aclose()
