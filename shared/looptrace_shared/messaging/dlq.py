"""Reading and replaying dead letters."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer

from looptrace_shared.messaging.kafka import make_producer
from looptrace_shared.settings import ServiceSettings
from looptrace_shared.topics import DLQ_SUFFIX, dlq


async def read_dead_letters(
    settings: ServiceSettings, topic: str, limit: int = 100, timeout_ms: int = 1500
) -> list[dict[str, Any]]:
    """Read up to ``limit`` records of ``<topic>.dlq`` from the beginning (no group, no commit)."""
    consumer = AIOKafkaConsumer(
        dlq(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        client_id=f"looptrace-dlq-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        while len(out) < limit:
            batch = await consumer.getmany(timeout_ms=timeout_ms, max_records=limit - len(out))
            if not batch:
                break
            for records in batch.values():
                out += [_letter(r) for r in records]
    finally:
        await consumer.stop()
    return out


def _letter(r: Any) -> dict[str, Any]:
    headers = {k: v.decode(errors="replace") for k, v in (r.headers or [])}
    return {
        "dlq_partition": r.partition,
        "dlq_offset": r.offset,
        "key": r.key.decode(errors="replace") if r.key else None,
        "headers": headers,
        "value": r.value.decode(errors="replace") if r.value else "",
    }


async def replay(settings: ServiceSettings, topic: str, limit: int = 1000) -> int:
    letters = await read_dead_letters(settings, topic, limit)
    target = topic.removesuffix(DLQ_SUFFIX)
    producer = make_producer(settings)
    await producer.start()
    try:
        for letter in letters:
            headers = [
                ("replayed_from", dlq(target).encode()),
                ("replayed_offset", str(letter["dlq_offset"]).encode()),
            ]
            await producer.send_and_wait(
                letter["headers"].get("original_topic", target),
                letter["value"].encode(),
                key=letter["key"].encode() if letter["key"] else None,
                headers=headers,
            )
    finally:
        await producer.stop()
    return len(letters)
