"""Broker connections: topic creation, producer and consumer settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner, murmur2

from looptrace_shared.settings import ServiceSettings
from looptrace_shared.topics import all_topics_with_dlq

log = logging.getLogger(__name__)


async def ensure_topics(
    settings: ServiceSettings, topics: Iterable[str] | None = None, attempts: int = 30
) -> list[str]:
    """Create the topics (idempotent) with the configured partition count; return those created."""
    wanted = list(topics or all_topics_with_dlq())
    admin = await _admin(settings, attempts)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            new = [
                NewTopic(t, settings.kafka_partitions, settings.kafka_replication_factor)
                for t in missing
            ]
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
        return missing
    finally:
        await admin.close()


async def _admin(settings: ServiceSettings, attempts: int) -> AIOKafkaAdminClient:
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        try:
            await admin.start()
            return admin
        except KafkaConnectionError:
            await admin.close()
            if attempt == attempts:
                raise
            log.warning(
                "broker %s not reachable yet (%d)", settings.kafka_bootstrap_servers, attempt
            )
            await asyncio.sleep(min(2.0, 0.1 * attempt))
    raise RuntimeError("unreachable")


def producer_options(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "client_id": f"looptrace-{settings.service_name}",
    }


class KeyHashCache:
    """aiokafka's default partitioner, with each key's murmur2 hash remembered.

    The outbox relay picks partitions itself (it sends record batches) for every event of an
    order under the same key, and aiokafka's murmur2 is pure Python: one order's many events
    would hash the same key again and again.
    Same partitions as the default.
    """

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(DefaultPartitioner()(key, all_partitions, available))
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) >= self._size:
                self._hashes.clear()
            h = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[h % len(all_partitions)]


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**producer_options(settings))


def consumer_options(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "auto_offset_reset": settings.kafka_auto_offset_reset,
        "max_records": settings.kafka_max_batch,
        "batch_timeout_ms": settings.kafka_batch_timeout_ms,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        # range: partition n of every topic goes to the same consumer, and the topics share
        # their partition count and key (the order id), so one consumer sees all of an order
        "partition_assignment_strategy": (RangePartitionAssignor,),
    }
