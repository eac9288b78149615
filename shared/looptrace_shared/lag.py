"""How far a consumer group is behind: committed offsets against the partitions' ends."""

from __future__ import annotations

import contextlib

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


class LagProbe:
    """Committed offsets of a consumer group against the partitions' ends."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._admin: AIOKafkaAdminClient | None = None
        self._ends: AIOKafkaConsumer | None = None

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._ends is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
            ends = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None)
            await admin.start()
            await ends.start()
            self._admin, self._ends = admin, ends
        return self._admin, self._ends

    async def lag(self, group: str, topics: tuple[str, ...]) -> int:
        admin, ends = await self._clients()
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(ends.partitions_for_topic(t) or await _partitions(ends, t))
        ]
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        end = await ends.end_offsets(tps)
        start = await ends.beginning_offsets(tps)
        behind = 0
        for tp in tps:
            at = committed.get(tp)
            offset = at.offset if at is not None and at.offset >= 0 else start[tp]
            behind += max(0, end[tp] - offset)
        return behind

    async def close(self) -> None:
        for client in (self._admin, self._ends):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close() if client is self._admin else await client.stop()  # type: ignore[union-attr]
        self._admin = self._ends = None


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - metadata of a topic not subscribed
    return consumer.partitions_for_topic(topic) or set()
