"""Real PostgreSQL (a scratch database per test) and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.handlers import consumer_group
from looptrace_notifications.models import plumbing
from looptrace_notifications.webhook_sender import Clients
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import Envelope, new_envelope
from looptrace_shared.events import orders as o
from looptrace_shared.events import production as p
from looptrace_shared.events import quality as q
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime
from looptrace_shared.testing import Infra, scratch_database

MIGRATIONS = Path(__file__).parents[2] / "looptrace_notifications" / "migrations"
ADMIN = "ops@looptrace.example"
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RecordingSmtp:
    """Records accepted mails; can answer 421 to the next N mails or 550 to some recipients."""

    received: list[Message] = field(default_factory=list)
    attempts: int = 0
    busy_for: int = 0
    unknown_users: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:  # noqa: N802
        if address in self.unknown_users:
            self.attempts += 1
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.attempts += 1
        if self.busy_for > 0:
            self.busy_for -= 1
            return "421 4.3.2 try later"
        self.received.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.received if m["To"] == address]


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingSmtp, int]]:
    handler, port = RecordingSmtp(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def db_url(infra: Infra) -> Iterator[str]:
    with scratch_database(infra.server_url, "notif_test") as url:
        migrate(url, MIGRATIONS)
        yield url


@pytest.fixture
def settings(db_url: str, smtp: tuple[RecordingSmtp, int]) -> NotificationsSettings:
    return NotificationsSettings(
        database_url=db_url,
        smtp_port=smtp[1],
        notifications_admin_emails=ADMIN,
        timeline_base_url="https://looptrace.example",
        mailer_backoff_base_s=0.01,
        mailer_backoff_cap_s=0.05,
        smtp_timeout_s=5,
        stream_poll_s=0.05,
    )


@pytest_asyncio.fixture
async def runtime(settings: NotificationsSettings) -> AsyncIterator[Runtime]:
    engine = make_engine(settings.database_url, 5)
    try:
        yield Runtime(settings, engine, make_sessionmaker(engine), plumbing, Clients())
    finally:
        await engine.dispose()


@pytest.fixture
def processor(runtime: Runtime) -> BatchProcessor:
    s = runtime.settings
    return BatchProcessor(consumer_group(s), runtime.sessions, plumbing, s)  # type: ignore[arg-type]


async def drain(runtime: Runtime, rounds: int = 50) -> None:
    """Run the mailer until nothing is pending (retries are due within milliseconds here)."""
    from sqlalchemy import func, select

    from looptrace_notifications.email_jobs import deliver_due
    from looptrace_notifications.models import EmailDeliveryRow

    for _ in range(rounds):
        await deliver_due(runtime)
        async with runtime.sessions() as s:
            q = select(func.count()).where(EmailDeliveryRow.state.in_(("pending", "sending")))
            if not await s.scalar(q):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("deliveries still pending after draining the mailer")


# ---- one order's life, as envelopes built from the shared payload models ----


class OrderStory:
    def __init__(
        self, buyer_email: str = "buyer@nordic.example", supplier_email: str = "mill@dhaka.example"
    ) -> None:
        self.order_id = f"ord-{uuid.uuid4().hex[:8]}"
        self.number = f"PO-{uuid.uuid4().hex[:6].upper()}"
        self.buyer = o.Party(id=f"b-{self.order_id}", name="Nordic Knit AB", email=buyer_email)
        self.supplier = o.Party(
            id=f"s-{self.order_id}", name="Dhaka Knitwear Ltd", email=supplier_email
        )
        self.offset = 0

    def facts(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "order_number": self.number,
            "buyer": self.buyer,
            "product_category": "knitwear",
            "quantity": 1200,
            "target_date": date(2025, 5, 30),
        }

    def created(self) -> Envelope:
        data = o.OrderCreated(
            **self.facts(), workflow_status="confirmed", currency="EUR", unit_price=Decimal("7.5")
        )
        return self._env("order.created", data)

    def supplier_assigned(self) -> Envelope:
        data = o.OrderSupplierAssigned(**self.facts(), supplier=self.supplier, assigned_by="ops")
        return self._env("order.supplier_assigned", data)

    def first_stage_started(self) -> Envelope:
        data = p.StageStarted(
            order_id=self.order_id,
            order_number=self.number,
            stage_number=1,
            stage_name="Knitting",
            started_at=NOW,
            first_stage=True,
        )
        return self._env("production.stage_started", data)

    def qc_passed(self) -> Envelope:
        data = q.InspectionPassed(
            order_id=self.order_id,
            order_number=self.number,
            inspection_id="i-1",
            sample_inspected=125,
            defects_by_class={"minor": 2},
            summary="Clean lot.",
        )
        return self._env("quality.inspection_passed", data)

    def shipped(self) -> Envelope:
        data = o.OrderStatusChanged(
            order_id=self.order_id,
            order_number=self.number,
            from_status="quality_check",
            to_status="shipped",
            status="shipped",
            production_status="completed",
        )
        return self._env("order.status_changed", data)

    def _env(self, type_: str, data: object) -> Envelope:
        return new_envelope(type_, "test", self.order_id, data)  # type: ignore[arg-type]

    def records(self, *envelopes: Envelope) -> list[Record]:
        out = []
        for env in envelopes:
            self.offset += 1
            out.append(Record("orders.events.v1", 0, self.offset, env.key(), env.to_bytes()))
        return out


@pytest.fixture
def story() -> type[OrderStory]:
    return OrderStory


@pytest.fixture
def mailer_drain() -> Any:
    return drain
