"""The outbox relay: publishes committed outbox rows to Kafka in order, then deletes them."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from looptrace_shared.db import Plumbing
from looptrace_shared.messaging.kafka import KeyHashCache
from looptrace_shared.observability import metrics

log = logging.getLogger(__name__)


class OutboxRelay:
    """One relay per service schema publishes at a time (an advisory lock), so per-key order holds."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plumbing: Plumbing,
        producer: AIOKafkaProducer,
        service: str,
        poll_s: float = 0.2,
        batch: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._plumbing = plumbing
        self._producer = producer
        self._service = service
        self._poll_s = poll_s
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._partitioner = KeyHashCache()
        self._lock_id = zlib.crc32(f"outbox:{plumbing.schema}".encode()) % (2**31)
        # one statement takes the lock and the oldest rows out (the lock a one-time filter: no
        # round trip of its own; RETURNING's order is not guaranteed: sorted by id after). An
        # event's headers are its type and correlation id: those two come as columns; other
        # headers (a dead letter's) as JSON text, for orjson
        table = plumbing.outbox.fullname
        self._take = text(
            f"DELETE FROM {table} WHERE (SELECT pg_try_advisory_xact_lock(:lock))"
            f" AND id IN (SELECT id FROM {table} ORDER BY id LIMIT :limit)"
            " RETURNING id, topic, key, value, created_at,"
            " headers->>'type', headers->>'correlation_id',"
            " CASE WHEN headers ?& array['type', 'correlation_id']"
            "  AND headers - 'type' - 'correlation_id' = '{}'::jsonb THEN NULL"
            "  ELSE headers::text END"
        )

    async def _publish(self, rows: Sequence[_Row]) -> None:
        """Publish ``rows`` and wait for the broker's acks; a row's key picks its partition.

        Rows go into one record batch per partition, in id order (so per key), rather than
        through ``send`` one by one: a batch is appended to in C, while ``send`` runs Python
        (a future, the partitioner, a batch lookup) for every record.
        """
        partitions: dict[str, list[int]] = {}
        batches: dict[tuple[str, int], Any] = {}
        futures = []
        for r in rows:
            if r.topic not in partitions:
                partitions[r.topic] = sorted(await self._producer.partitions_for(r.topic))
            every = partitions[r.topic]
            tp = (r.topic, self._partitioner(r.key, every, every))
            headers = r.headers
            batch = batches.get(tp)
            if batch is not None and _append(batch, r, headers):
                continue
            if batch is not None:  # full: send it, start the next one
                futures.append(await self._send(batch, *tp))
            batch = batches[tp] = self._producer.create_batch()
            if not _append(batch, r, headers):  # larger than a batch: on its own
                del batches[tp]
                sent = await self._producer.send(
                    tp[0], r.value, key=r.key, partition=tp[1], headers=headers
                )
                futures.append(sent)
        for (topic, partition), batch in batches.items():
            futures.append(await self._send(batch, topic, partition))
        await asyncio.gather(*futures)

    async def _send(self, batch: Any, topic: str, partition: int) -> Any:
        """Submit a complete record batch: closed first, so the producer sends it at once
        (an open batch lingers ``linger_ms`` waiting for ``send`` calls to join it)."""
        batch.close()
        return await self._producer.send_batch(batch, topic, partition=partition)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Ask :meth:`run` to return once the outbox is empty (a round is never cut short)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
                published = 0
                if self._stopping:
                    return  # the rows stay for the next start
                await asyncio.sleep(1.0)
            if self._stopping and published == 0:
                return
            if published < self._batch:
                await self._sleep()

    async def _sleep(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
        except TimeoutError:
            pass
        self._wake.clear()

    async def relay_once(self) -> int:
        """Take the oldest rows out of the outbox, publish them, and commit the delete once
        the broker acked them all; a failure rolls the delete back (the rows stay). Nothing
        while another relay of the schema holds the lock."""
        async with self._sessions() as session, session.begin():
            params = {"lock": self._lock_id, "limit": self._batch}
            taken = await session.execute(self._take, params)  # no rows: empty, or locked
            rows = sorted(
                (
                    _Row(i, topic, key, value, _headers(kind, correlation, other), at)
                    for i, topic, key, value, at, kind, correlation, other in taken
                ),
                key=lambda r: r.id,
            )
            if not rows:
                metrics.OUTBOX_LAG.labels(self._service).set(0)
                return 0
            metrics.OUTBOX_LAG.labels(self._service).set(
                (datetime.now(UTC) - rows[0].created_at).total_seconds()
            )
            await self._publish(rows)
            for topic, n in Counter(r.topic for r in rows).items():
                metrics.MESSAGES_OUT.labels(self._service, topic).inc(n)
            return len(rows)


class _Row(NamedTuple):
    id: int
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]  # as Kafka takes them
    created_at: datetime


def _headers(kind: str, correlation: str, other: str | None) -> list[tuple[str, bytes]]:
    """A row's headers for Kafka, in the order the JSONB column keeps its keys."""
    if other is None:
        return [("type", kind.encode()), ("correlation_id", correlation.encode())]
    return [(k, str(v).encode()) for k, v in orjson.loads(other).items()]


def _append(batch: Any, row: _Row, headers: list[tuple[str, bytes]]) -> bool:
    return batch.append(key=row.key, value=row.value, timestamp=None, headers=headers) is not None
