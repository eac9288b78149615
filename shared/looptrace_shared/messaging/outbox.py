"""The outbox relay: publishes committed outbox rows to Kafka in order, then deletes them."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import ARRAY, BigInteger, Row, any_, bindparam, delete, func, select
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
        batch: int = 2000,
    ) -> None:
        self._sessions = sessions
        self._plumbing = plumbing
        self._producer = producer
        self._service = service
        self._poll_s = poll_s
        self._batch = batch
        self._wake = asyncio.Event()
        self._partitioner = KeyHashCache()
        self._lock_id = zlib.crc32(f"outbox:{plumbing.schema}".encode()) % (2**31)

    async def _publish(self, rows: Sequence[Row[Any]]) -> None:
        """Publish ``rows`` and wait for the broker's acks; a row's key picks its partition.

        Rows go into one record batch per partition, in id order (so per key), rather than
        through ``send`` one by one: a batch is appended to in C, ``send`` costs ~20 µs each.
        """
        partitions: dict[str, list[int]] = {}
        batches: dict[tuple[str, int], Any] = {}
        futures = []
        for r in rows:
            if r.topic not in partitions:
                partitions[r.topic] = sorted(await self._producer.partitions_for(r.topic))
            every = partitions[r.topic]
            tp = (r.topic, self._partitioner(r.key, every, every))
            headers = [(k, str(v).encode()) for k, v in (r.headers or {}).items()]
            batch = batches.get(tp)
            if batch is not None and _append(batch, r, headers):
                continue
            if batch is not None:  # full: send it, start the next one
                futures.append(await self._producer.send_batch(batch, tp[0], partition=tp[1]))
            batch = batches[tp] = self._producer.create_batch()
            if not _append(batch, r, headers):  # larger than a batch: on its own
                del batches[tp]
                sent = await self._producer.send(
                    tp[0], r.value, key=r.key, partition=tp[1], headers=headers
                )
                futures.append(sent)
        for (topic, partition), batch in batches.items():
            futures.append(await self._producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)

    def wake(self) -> None:
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
                await asyncio.sleep(1.0)
            if published < self._batch:
                await self._sleep()

    async def _sleep(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
        except TimeoutError:
            pass
        self._wake.clear()

    async def relay_once(self) -> int:
        ob = self._plumbing.outbox
        async with self._sessions() as session, session.begin():
            got = await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_id)))
            if not got:
                return 0
            rows = (await session.execute(select(ob).order_by(ob.c.id).limit(self._batch))).all()
            if not rows:
                metrics.OUTBOX_LAG.labels(self._service).set(0)
                return 0
            metrics.OUTBOX_LAG.labels(self._service).set(
                (datetime.now(UTC) - rows[0].created_at).total_seconds()
            )
            await self._publish(rows)
            ids = bindparam("ids", [r.id for r in rows], type_=ARRAY(BigInteger))
            await session.execute(delete(ob).where(ob.c.id == any_(ids)))
            for r in rows:
                metrics.MESSAGES_OUT.labels(self._service, r.topic).inc()
            return len(rows)


def _append(batch: Any, row: Row[Any], headers: list[tuple[str, bytes]]) -> bool:
    return batch.append(key=row.key, value=row.value, timestamp=None, headers=headers) is not None
