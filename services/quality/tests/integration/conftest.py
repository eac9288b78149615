"""The quality app's HTTP API on a real PostgreSQL, fed order facts through its batch processor."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import looptrace_quality
from looptrace_quality.app import create_app
from looptrace_quality.config import QualitySettings
from looptrace_quality.models import plumbing
from looptrace_shared.auth import mint_token
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.testing import broker_settings, running_service

MIGRATIONS = Path(looptrace_quality.__file__).parent / "migrations"
_offsets = itertools.count(10_000_000)


@dataclass
class Kit:
    """Drives quality as production and inspectors would: messages in, HTTP calls, outbox out."""

    settings: QualitySettings
    processor: BatchProcessor
    http: httpx.AsyncClient

    def auth(self, role: str, subject: str = "u-1") -> dict[str, str]:
        token = mint_token(self.settings.jwt_secret, role, subject)
        return {"Authorization": f"Bearer {token}"}

    async def feed(self, *records: Record) -> None:
        await self.processor.process(list(records))

    async def events(self, order_id: str, type_: str) -> list[dict[str, Any]]:
        async with self.processor.sessions() as s:
            rows = (await s.execute(select(plumbing.outbox).order_by(plumbing.outbox.c.id))).all()
        found = [json.loads(r.value) for r in rows if r.key == order_id.encode()]
        return [e["data"] for e in found if e.get("type") == type_]

    @staticmethod
    def record(type_: str, order_id: str, data: dict[str, Any]) -> Record:
        topic = (
            "quality.inbound.v1" if type_ == "InspectionResultSubmitted" else "production.events.v1"
        )
        value = new_envelope(type_, "test", order_id, data).to_bytes()
        return Record(topic, 0, next(_offsets), order_id.encode(), value)

    @staticmethod
    def initialized(order_id: str, supplier: str, buyer: str | None, quantity: int = 500) -> Record:
        stage = {"stage_number": 9, "stage_name": "Final QC", "status": "pending",
                 "planned_start": None, "planned_end": None, "qc": True}  # fmt: skip
        return Kit.record("production.stages_initialized", order_id, {
            "order_id": order_id, "order_number": f"PO-{order_id[:6]}", "supplier_id": supplier,
            "product_category": "knitwear", "target_date": str(date(2031, 1, 1)),
            "projected_completion": str(date(2031, 1, 1)), "at_risk": False, "stages": [stage],
            "quantity": quantity, "buyer_id": buyer,
        })  # fmt: skip

    @staticmethod
    def qc_completed(order_id: str) -> Record:
        return Kit.record("production.stage_completed", order_id, {
            "order_id": order_id, "order_number": "x", "stage_number": 9, "stage_name": "Final QC",
            "completed_at": datetime.now(UTC).isoformat(), "qc": True,
        })  # fmt: skip

    @staticmethod
    def result(order_id: str, major: int = 0, sample: int = 50) -> Record:
        defects = [{"defect_class": "major", "count": major}] if major else []
        return Kit.record("InspectionResultSubmitted", order_id, {
            "order_id": order_id, "inspector": "qc-1", "sample_inspected": sample, "defects": defects,
        })  # fmt: skip


@pytest.fixture(scope="module")
async def kit(database_url: str):  # type: ignore[no-untyped-def]
    """The app without its lifespan (no broker needed): HTTP routes and the batch processor."""
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    settings = QualitySettings(database_url=database_url, parking_retry_s=0.0)
    app = create_app(settings)
    rt = app.state.runtime
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    yield Kit(settings, rt.processors[0], http)
    await http.aclose()
    await rt.engine.dispose()


@pytest.fixture(scope="module")
async def running(database_url: str, kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    """The quality service in process against the real broker and PostgreSQL (one a module),
    with an upstream producer."""
    settings = QualitySettings(**broker_settings(database_url, kafka_bootstrap))
    async with running_service(create_app, settings) as up:
        yield up
