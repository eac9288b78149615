"""A quiet batch consumer hands a new record over as soon as it is fetched (real broker).

FastStream's batch subscriber sleeps ``batch_timeout_ms`` after an empty ``getmany``; a record
arriving in that sleep waited for it. The subscriber every consumer group runs on
(``waiting_on_the_fetch``) waits on the fetch only.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from looptrace_shared.messaging.kafka import ensure_topics
from looptrace_shared.messaging.subscriber import FetchWaitingBatchSubscriber, waiting_on_the_fetch
from looptrace_shared.settings import ServiceSettings

pytestmark = pytest.mark.integration

IDLE_WAIT_MS = 800  # the getmany timeout: long, so a sleep after it could not go unnoticed


async def test_a_record_sent_after_an_empty_fetch_is_handled_without_waiting_out_a_sleep(
    kafka_bootstrap: str,
) -> None:
    topic = f"subscriber.test.{uuid.uuid4().hex[:8]}.v1"
    await ensure_topics(ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap), [topic])
    handled: list[tuple[float, int]] = []
    broker = KafkaBroker(kafka_bootstrap)
    subscriber = waiting_on_the_fetch(
        broker.subscriber(
            topic,
            group_id=f"g-{topic}",
            batch=True,
            batch_timeout_ms=IDLE_WAIT_MS,
            fetch_max_wait_ms=20,
            auto_offset_reset="earliest",
        )  # fmt: skip
    )
    assert isinstance(subscriber, FetchWaitingBatchSubscriber)

    @subscriber  # type: ignore[untyped-decorator]
    async def consume(body: list[int]) -> None:  # "1", "2": JSON numbers
        handled.append((time.monotonic(), len(body)))

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=0)
    await broker.start()
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"1", key=b"k")
        first = await _handled(handled, 1, 30.0)
        # the loop's next getmany found nothing after IDLE_WAIT_MS; FastStream's own subscriber
        # then sleeps IDLE_WAIT_MS more: this record would wait until first + 2 x IDLE_WAIT_MS
        await asyncio.sleep(first + 1.25 * IDLE_WAIT_MS / 1000 - time.monotonic())
        sent = time.monotonic()
        await producer.send_and_wait(topic, b"2", key=b"k")
        took = await _handled(handled, 2, 10.0) - sent
        assert took < 0.5 * IDLE_WAIT_MS / 1000, f"handled {took * 1000:.0f} ms after its send"
    finally:
        await producer.stop()
        await broker.stop()


async def _handled(handled: list[tuple[float, int]], n: int, timeout: float) -> float:
    """When the ``n``-th record was handled."""
    deadline = time.monotonic() + timeout
    while sum(k for _, k in handled) < n:
        assert time.monotonic() < deadline, f"record {n} not handled within {timeout}s"
        await asyncio.sleep(0.005)
    return handled[-1][0]


def test_only_a_batch_subscriber_is_changed() -> None:
    broker = KafkaBroker("127.0.0.1:9")
    with pytest.raises(TypeError):
        waiting_on_the_fetch(broker.subscriber("t", group_id="g"))
