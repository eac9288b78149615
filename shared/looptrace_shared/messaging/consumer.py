"""Batch consumption with effectively-once effects.

For each consumed batch: parse → one DB transaction (inbox filter, the service's batch
handler, parked and dead-lettered messages, outbox rows) → commit → then the offsets.
Transient failures are retried with backoff; a batch that fails for another reason is
split so only the poison message is dead-lettered.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    String,
    any_,
    bindparam,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from looptrace_shared.db import DeadLetter, Plumbing, UnitOfWork, json_rows
from looptrace_shared.messaging.dispatch import ConsumerGroup, Outcomes
from looptrace_shared.messaging.incoming import Incoming, Record, Unparseable, parse_record
from looptrace_shared.messaging.transient import is_transient
from looptrace_shared.observability import metrics
from looptrace_shared.observability.logs import bind
from looptrace_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class BatchProcessor:
    def __init__(
        self,
        group: ConsumerGroup[Any],
        sessions: async_sessionmaker[AsyncSession],
        plumbing: Plumbing,
        settings: ServiceSettings,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.group = group
        self.sessions = sessions
        self.plumbing = plumbing
        self.settings = settings
        self.on_commit = on_commit
        self.service = settings.service_name
        # one JSON parameter rather than a VALUES row per message: no per-batch SQL to compile
        self._inbox_insert = text(
            f"INSERT INTO {plumbing.inbox.fullname} (consumer_group, event_id)"
            " SELECT :group, e FROM json_array_elements_text(CAST(:ids AS json)) AS e"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        )

    # ---- consumption -----------------------------------------------------------

    async def process(self, records: Sequence[Record]) -> None:
        """Process one consumed batch; return once all of it is committed (else raise).

        The batch is split by subject (the order id) into lanes (``kafka_batch_lanes``), each
        in its own transaction, run concurrently: while one waits on PostgreSQL, another runs
        its Python. An order's messages, from whichever topic, stay in one lane, in order.
        (By subject, not by partition: one fetch often holds a single partition's records.)
        """
        started = time.perf_counter()
        lanes = self._lanes([parse_record(r) for r in records])
        attempts = [
            self._with_retries(functools.partial(self._process_isolating, p)) for p in lanes
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:  # every lane has finished: the batch is redelivered, the inbox dedupes
            raise failures[0]
        metrics.HANDLER_LATENCY.labels(self.service).observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.labels(self.service).observe(len(records))

    def _lanes(self, parsed: list[Incoming | Unparseable]) -> list[list[Incoming | Unparseable]]:
        n = self.settings.kafka_batch_lanes
        lanes: list[list[Incoming | Unparseable]] = [[] for _ in range(n)]
        for p in parsed:  # an unparseable record has no subject: it only goes to the DLQ
            key = p.subject if isinstance(p, Incoming) else p.record.partition
            lanes[hash(key) % n].append(p)
        return [lane for lane in lanes if lane]

    async def _with_retries(self, attempt: Callable[[], Awaitable[None]]) -> None:
        s = self.settings
        for n in range(1, s.retry_max_attempts + 1):
            try:
                await attempt()
                return
            except Exception as err:
                if not is_transient(err) or n == s.retry_max_attempts:
                    raise
                delay = min(s.retry_backoff_cap_s, s.retry_backoff_base_s * 2 ** (n - 1))
                metrics.RETRIES.labels(self.service).inc()
                log.warning("transient failure (%s), retry %d in %.2fs", err, n, delay)
                await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _process_isolating(self, parsed: list[Incoming | Unparseable]) -> None:
        try:
            await self._transaction(parsed)
        except Exception as err:
            if is_transient(err):
                raise
            if len(parsed) == 1:
                await self._dead_letter_poison(parsed[0], err)
                return
            log.warning("batch of %d failed (%s); processing one by one", len(parsed), err)
            for item in parsed:
                await self._with_retries(functools.partial(self._process_isolating, [item]))

    async def _transaction(self, parsed: list[Incoming | Unparseable]) -> None:
        async with self.sessions() as session:
            uow = UnitOfWork(session, self.plumbing, on_commit=self.on_commit)
            bad = [p for p in parsed if isinstance(p, Unparseable)]
            good = await self._inbox_filter(session, [p for p in parsed if isinstance(p, Incoming)])
            blocked = await self._parked_subjects(session, {i.subject for i in good})
            ready = [i for i in good if i.subject not in blocked or i.type in self.group.unblocks]
            outcomes = await self.group.handle(uow, ready) if ready else Outcomes()
            waiting = outcomes.waiting + [
                (i, f"an earlier message of order {i.subject} is parked")
                for i in good
                if i.subject in blocked and i.type not in self.group.unblocks
            ]
            await self._park(session, waiting, blocked)
            for u in bad:
                self._dead_letter(uow, u.record, u.error, u.rule)
            for item, refusal in outcomes.rejected:
                self._dead_letter(uow, item.record, str(refusal), refusal.rule)
            await uow.commit()
        self._count(bad, outcomes, waiting)
        if any(i.subject in blocked and i.type in self.group.unblocks for i in good):
            await self.retry_parked()

    def _count(
        self, bad: list[Unparseable], o: Outcomes, waiting: list[tuple[Incoming, str]]
    ) -> None:
        m = metrics.MESSAGES_IN
        topic = ",".join(self.group.topics)
        m.labels(self.service, topic, "processed").inc(o.processed)
        m.labels(self.service, topic, "dead_lettered").inc(len(bad) + len(o.rejected))
        m.labels(self.service, topic, "parked").inc(len(waiting))

    async def _inbox_filter(self, session: AsyncSession, items: list[Incoming]) -> list[Incoming]:
        """The items not processed before, in order; ``idempotent`` types all pass."""
        own = self.group.idempotent
        ids = list(dict.fromkeys(i.event_id for i in items if i.type not in own))
        if not ids:
            return items
        params = {"group": self.group.name, "ids": json_rows(ids)}
        fresh = set((await session.execute(self._inbox_insert, params)).scalars())
        seen: set[str] = set()
        out = []
        for i in items:  # also drops an id repeated inside the same batch
            if i.type in own:
                out.append(i)
            elif i.event_id in fresh and i.event_id not in seen:
                seen.add(i.event_id)
                out.append(i)
        return out

    async def _parked_subjects(self, session: AsyncSession, subjects: set[str]) -> set[str]:
        if not subjects:
            return set()
        p = self.plumbing.parked
        q = select(p.c.subject).where(*self._parked_of(subjects))
        return set((await session.execute(q.distinct())).scalars())

    async def _parked_coordinates(
        self, session: AsyncSession, subjects: set[str]
    ) -> set[tuple[str, int, int]]:
        p = self.plumbing.parked
        q = select(p.c.topic, p.c.partition, p.c.offset).where(*self._parked_of(subjects))
        return {(t, n, o) for t, n, o in await session.execute(q)}

    def _parked_of(self, subjects: set[str]) -> tuple[ColumnElement[bool], ...]:
        p = self.plumbing.parked
        among = p.c.subject == any_(bindparam("subjects", list(subjects), type_=ARRAY(String)))
        return p.c.consumer_group == self.group.name, among

    async def _park(
        self, session: AsyncSession, waiting: list[tuple[Incoming, str]], blocked: set[str]
    ) -> None:
        """Park what waits, once: a type that skips the inbox (``idempotent``) comes back
        when Kafka delivers it again (a crash before the offsets were committed, a commit
        whose answer was lost): if it is parked already, it stays parked as it is."""
        if any(i.subject in blocked for i, _ in waiting):
            there = await self._parked_coordinates(session, blocked)
            waiting = [(i, r) for i, r in waiting if _coordinates(i.record) not in there]
        if not waiting:
            return
        rows = [
            {
                "consumer_group": self.group.name,
                "topic": i.record.topic,
                "partition": i.record.partition,
                "offset": i.record.offset,
                "subject": i.subject,
                "value": i.record.value,
                "reason": reason,
            }
            for i, reason in waiting
        ]
        await session.execute(pg_insert(self.plumbing.parked), rows)
        metrics.PARKED.labels(self.service).inc(len(rows))

    def _dead_letter(
        self, uow: UnitOfWork, record: Record, error: str, rule: str, attempts: int = 1
    ) -> None:
        log.warning("dead letter from %s@%d: %s", record.topic, record.offset, error)
        metrics.DLQ.labels(self.service, record.topic, rule).inc()
        uow.dead_letter(
            DeadLetter(
                record.topic,
                record.partition,
                record.offset,
                record.key,
                record.value,
                error,
                rule,
                self.group.name,
                attempts,
            )
        )

    async def _dead_letter_poison(self, item: Incoming | Unparseable, err: Exception) -> None:
        log.exception("message could not be processed; dead-lettering it", exc_info=err)
        async with self.sessions() as session:
            uow = UnitOfWork(session, self.plumbing, on_commit=self.on_commit)
            if isinstance(item, Incoming):
                bind(item.subject, item.envelope.correlation_id)
                await self._inbox_filter(session, [item])
            error = f"processing failed: {type(err).__name__}: {err}"
            self._dead_letter(
                uow, item.record, error, "processing_error", self.settings.retry_max_attempts
            )
            await uow.commit()

    # ---- parked messages ---------------------------------------------------------

    async def retry_parked(self, limit: int = 500) -> int:
        """Re-run due parked messages; those still waiting past the timeout go to the DLQ."""
        p = self.plumbing.parked
        now = datetime.now(UTC)
        async with self.sessions() as session:
            uow = UnitOfWork(session, self.plumbing, on_commit=self.on_commit)
            rows = (
                await session.execute(
                    select(p)
                    .where(p.c.consumer_group == self.group.name)
                    .order_by(p.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            due_subjects = {r.subject for r in rows if r.next_attempt_at <= now}
            rows = [r for r in rows if r.subject in due_subjects]
            if not rows:
                await session.rollback()
                return 0
            by_offset = {_coordinates(r): r for r in rows}  # a message parked twice: once
            items = [
                parse_record(Record(r.topic, r.partition, r.offset, r.subject.encode(), r.value))
                for r in by_offset.values()
            ]
            ready = [i for i in items if isinstance(i, Incoming)]
            outcomes = await self.group.handle(uow, ready)
            still = {
                (i.record.topic, i.record.partition, i.record.offset): reason
                for i, reason in outcomes.waiting
            }
            for item, refusal in outcomes.rejected:
                self._dead_letter(uow, item.record, str(refusal), refusal.rule)
            await self._settle_parked(session, uow, rows, still, now)
            await uow.commit()
            return len(by_offset) - len(still)

    async def _settle_parked(self, session, uow, rows, still, now) -> None:  # type: ignore[no-untyped-def]
        """Every row settles with its message's outcome, a message parked twice in each of
        its rows: none is left behind to be retried for ever."""
        p = self.plumbing.parked
        timeout = timedelta(seconds=self.settings.parking_timeout_s)
        done, expired, waiting_ids, lettered = [], [], [], set()
        for row in rows:
            coords = _coordinates(row)
            if coords not in still:
                done.append(row.id)
            elif now - row.parked_at < timeout:
                waiting_ids.append(row.id)
            elif coords in lettered:
                expired.append(row.id)
            else:
                expired.append(row.id)
                lettered.add(coords)
                reason = (
                    f"{still[coords]} (gave up after {self.settings.parking_timeout_s:g}s parked)"
                )
                record = Record(
                    row.topic, row.partition, row.offset, row.subject.encode(), row.value
                )
                self._dead_letter(uow, record, reason, "parking_timeout", row.attempts + 1)
        if done or expired:
            await session.execute(delete(p).where(p.c.id.in_(done + expired)))
        if waiting_ids:
            delay = timedelta(seconds=self.settings.parking_retry_s)
            await session.execute(
                update(p)
                .where(p.c.id.in_(waiting_ids))
                .values(attempts=p.c.attempts + 1, next_attempt_at=now + delay)
            )


def _coordinates(r: Any) -> tuple[str, int, int]:
    """Where a message (a record, or a parked row) sits in Kafka: what tells a repeat."""
    return r.topic, r.partition, r.offset
