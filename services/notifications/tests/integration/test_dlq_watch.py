"""Dead letters on the real broker → admin notification and e-mail, once per growth."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, text

from looptrace_notifications.dlq_watch import EVENT_TYPE, watch_dead_letters
from looptrace_notifications.models import EmailDeliveryRow, NotificationRow, plumbing
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.messaging.kafka import ensure_topics
from looptrace_shared.runtime import Runtime
from looptrace_shared.testing import unique_topic_suffix

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def watcher(settings, kafka_bootstrap: str) -> AsyncIterator[Runtime]:  # type: ignore[no-untyped-def]
    s = settings.model_copy(update={"kafka_bootstrap_servers": kafka_bootstrap})
    engine = make_engine(s.database_url, 5)
    try:
        yield Runtime(s, engine, make_sessionmaker(engine), plumbing)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def dlq_topic(watcher: Runtime, kafka_bootstrap: str) -> AsyncIterator[str]:
    topic = f"test{unique_topic_suffix()}.events.v1.dlq"
    await ensure_topics(watcher.settings, [topic])
    yield topic


async def dead_letters(bootstrap: str, topic: str, *keys: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key in keys:
            await producer.send_and_wait(topic, b"{}", key=key.encode())
    finally:
        await producer.stop()


async def alerts(runtime: Runtime) -> list[tuple[NotificationRow, EmailDeliveryRow | None]]:
    n, d = NotificationRow, EmailDeliveryRow
    q = select(n, d).outerjoin(d, d.notification_id == n.id).order_by(n.id)
    async with runtime.sessions() as s:
        return [(row, delivery) for row, delivery in (await s.execute(q)).all()]


async def test_one_alert_per_growth_never_twice(  # type: ignore[no-untyped-def]
    watcher, dlq_topic, kafka_bootstrap, smtp, mailer_drain
):
    server, _ = smtp
    await dead_letters(kafka_bootstrap, dlq_topic, "ord-1", "ord-2")
    assert await watch_dead_letters(watcher, [dlq_topic]) == 1

    ((first, delivery),) = await alerts(watcher)
    assert (first.source_event_type, first.recipient_id) == (EVENT_TYPE, "ops@looptrace.example")
    assert first.notification_type == "dead_letters_growing" and first.category == "admin"
    assert first.context["topic"] == dlq_topic
    assert (first.context["new_dead_letters"], first.context["dead_letter_count"]) == (2, 2)
    assert first.source_event_id == f"dlq:{dlq_topic}:2"
    assert delivery is not None and delivery.recipient_email == "ops@looptrace.example"

    assert await watch_dead_letters(watcher, [dlq_topic]) == 0  # no growth, nothing new
    assert len(await alerts(watcher)) == 1

    await dead_letters(kafka_bootstrap, dlq_topic, "ord-3")
    assert await watch_dead_letters(watcher, [dlq_topic]) == 1
    second = (await alerts(watcher))[1][0]
    assert (second.context["new_dead_letters"], second.context["dead_letter_count"]) == (1, 3)

    await mailer_drain(watcher)
    mails = server.to("ops@looptrace.example")
    assert [m["Subject"] for m in mails] == [f"Dead letters growing on {dlq_topic}"] * 2
    assert "3 messages are waiting" in mails[1].get_body(("plain",)).get_content()


async def test_a_restart_that_lost_the_watermarks_does_not_alert_twice(  # type: ignore[no-untyped-def]
    watcher, dlq_topic, kafka_bootstrap
):
    await dead_letters(kafka_bootstrap, dlq_topic, "ord-1", "ord-2")
    assert await watch_dead_letters(watcher, [dlq_topic]) == 1
    async with watcher.sessions() as s:  # a replica that never saw the first alert's watermarks
        await s.execute(text("delete from notifications.dlq_watermarks"))
        await s.commit()
    await watch_dead_letters(watcher, [dlq_topic])
    assert len(await alerts(watcher)) == 1


async def test_below_the_threshold_waits_until_enough_piled_up(  # type: ignore[no-untyped-def]
    watcher, dlq_topic, kafka_bootstrap
):
    watcher.settings = watcher.settings.model_copy(update={"dlq_alert_min_new": 2})
    await dead_letters(kafka_bootstrap, dlq_topic, "ord-1")
    assert await watch_dead_letters(watcher, [dlq_topic]) == 0
    await dead_letters(kafka_bootstrap, dlq_topic, "ord-2")
    assert await watch_dead_letters(watcher, [dlq_topic]) == 1
    ((alert, _),) = await alerts(watcher)
    assert alert.context["new_dead_letters"] == 2


async def test_topics_missing_on_the_broker_are_skipped(watcher) -> None:  # type: ignore[no-untyped-def]
    missing = f"test{unique_topic_suffix()}.nothing.v1.dlq"
    assert await watch_dead_letters(watcher, [missing]) == 0
    assert await alerts(watcher) == []
