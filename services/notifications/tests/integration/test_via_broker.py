"""The notifications app with its lifespan, over the real broker, PostgreSQL and SMTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from looptrace_notifications.app import create_app
from looptrace_notifications.config import NotificationsSettings
from looptrace_shared.envelope import Envelope
from looptrace_shared.testing import eventually, order_envelopes
from looptrace_shared.topics import NOTIFICATIONS_OUTBOUND, ORDERS_EVENTS, PRODUCTION_EVENTS

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def producer(db_url: str, kafka_bootstrap: str, smtp) -> AsyncIterator[AIOKafkaProducer]:  # type: ignore[no-untyped-def]
    settings = NotificationsSettings(
        database_url=db_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        smtp_port=smtp[1],
        mailer_poll_s=0.2,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            yield producer
        finally:
            await producer.stop()


async def publish(producer: AIOKafkaProducer, topic: str, envelope: Envelope) -> None:
    await producer.send_and_wait(topic, envelope.to_bytes(), key=envelope.key())


async def sent_events(bootstrap: str, order_id: str, want: int) -> list[Any]:
    found = await order_envelopes(bootstrap, NOTIFICATIONS_OUTBOUND, order_id, want, timeout_s=20)
    return [e for e in found if e["type"] == "notifications.notification_sent"]


async def test_events_on_the_broker_become_one_mail_each_and_sent_events(  # type: ignore[no-untyped-def]
    producer, smtp, story, kafka_bootstrap
):
    server, _ = smtp
    buyer = f"buyer-{uuid.uuid4().hex[:6]}@nordic.example"
    o = story(buyer_email=buyer)
    await publish(producer, ORDERS_EVENTS, o.created())
    await publish(producer, ORDERS_EVENTS, o.supplier_assigned())
    await publish(producer, PRODUCTION_EVENTS, o.first_stage_started())

    await eventually(lambda: len(server.to(buyer)) >= 3)
    await asyncio.sleep(1.5)  # several mailer runs and a parking retry later: still three
    kinds = sorted(m["X-LoopTrace-Notification"] for m in server.to(buyer))
    assert kinds == ["order_confirmed", "production_started", "supplier_assigned"]
    assert all(o.number in m["Subject"] for m in server.to(buyer))

    sent = await sent_events(kafka_bootstrap, o.order_id, want=4)  # 3 to the buyer, 1 to the mill
    assert len(sent) == 4, sent
    to_buyer = [e["data"] for e in sent if e["data"]["recipient_email"] == buyer]
    assert sorted(d["notification_type"] for d in to_buyer) == kinds
    assert {d["recipient_id"] for d in to_buyer} == {o.buyer.id}
