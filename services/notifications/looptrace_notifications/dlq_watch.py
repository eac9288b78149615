"""Admin alert when dead letters pile up: a periodic job over every ``<topic>.dlq``.

Each run reads the first and end offsets of every dead-letter partition (a consumer
without a group: nothing is committed), compares the end offsets with the watermarks
stored when the topic was last alerted on, and for each topic that grew by at least
``dlq_alert_min_new`` creates ``ops.dead_letters_growing`` admin notifications through
the same ``notify`` / ``flush`` use case as events, then moves its watermarks, all in
one transaction. The source event id is ``dlq:<topic>:<sum of end offsets>``: a restart
or a second replica that computes the same alert creates nothing twice (notifications
are unique per source event and recipient), and an advisory lock keeps two replicas
from comparing at the same time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition

from looptrace_notifications import repository as repo
from looptrace_notifications import services as uc
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.services import NotificationsContext
from looptrace_shared.db import UnitOfWork
from looptrace_shared.topics import ALL_TOPICS, dlq

log = logging.getLogger(__name__)

EVENT_TYPE: Final = "ops.dead_letters_growing"
JOB_LOCK: Final = "notifications.dlq_watch"


def dead_letter_topics() -> list[str]:
    return [dlq(t) for t in ALL_TOPICS]


# ---- deciding (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionOffsets:
    first: int
    end: int


@dataclass(frozen=True)
class DeadLetterGrowth:
    """How one dead-letter topic changed since its last alert."""

    topic: str
    new_dead_letters: int
    dead_letter_count: int
    end_offsets: Mapping[int, int]

    @property
    def source_event_id(self) -> str:
        return f"dlq:{self.topic}:{sum(self.end_offsets.values())}"

    def data(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "new_dead_letters": self.new_dead_letters,
            "dead_letter_count": self.dead_letter_count,
        }


def growth(
    topic: str, offsets: Mapping[int, PartitionOffsets], seen: Mapping[int, int]
) -> DeadLetterGrowth:
    """Compare end offsets with the watermarks ``seen`` (a partition never seen starts at 0)."""
    new = sum(_new(o.end, seen.get(p, 0)) for p, o in offsets.items())
    waiting = sum(max(0, o.end - o.first) for o in offsets.values())
    return DeadLetterGrowth(topic, new, waiting, {p: o.end for p, o in offsets.items()})


def _new(end: int, seen: int) -> int:
    """Letters written since ``seen``; an end below it means the topic was recreated."""
    return end - seen if end >= seen else end


def worth_alerting(
    offsets: Mapping[str, Mapping[int, PartitionOffsets]],
    seen: Mapping[str, Mapping[int, int]],
    min_new: int,
) -> list[DeadLetterGrowth]:
    found = [growth(t, parts, seen.get(t, {})) for t, parts in offsets.items()]
    return [g for g in found if g.new_dead_letters >= min_new]


# ---- the job --------------------------------------------------------------------------


async def watch_dead_letters(runtime: Any, topics: Sequence[str] | None = None) -> int:
    """Periodic job: alert the admins on dead-letter topics that grew; returns how many."""
    settings: NotificationsSettings = runtime.settings
    if not settings.admin_emails:
        return 0  # nobody to tell: watermarks stay, so admins added later hear of it all
    offsets = await read_offsets(settings, list(topics or dead_letter_topics()))
    async with runtime.unit_of_work() as uow:
        if not await repo.try_job_lock(uow.session, JOB_LOCK):
            return 0  # another replica is comparing right now
        seen = await repo.load_watermarks(uow.session, list(offsets))
        grown = worth_alerting(offsets, seen, settings.dlq_alert_min_new)
        await alert(uow, settings, grown)
        await uow.commit()
    return len(grown)


async def alert(
    uow: UnitOfWork, settings: NotificationsSettings, grown: list[DeadLetterGrowth]
) -> None:
    ctx = NotificationsContext(uow, settings)
    for g in grown:
        log.warning(
            "%d new dead letters on %s (%d waiting)",
            g.new_dead_letters,
            g.topic,
            g.dead_letter_count,
        )
        await uc.notify(ctx, EVENT_TYPE, g.topic, g.data(), g.source_event_id)
    await uc.flush(ctx)
    marks = [(g.topic, p, end) for g in grown for p, end in g.end_offsets.items()]
    await repo.save_watermarks(uow.session, marks, ctx.now)


async def read_offsets(
    settings: NotificationsSettings, topics: list[str]
) -> dict[str, dict[int, PartitionOffsets]]:
    """First and end offset of every partition of ``topics``; topics not on the broker are left out."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        client_id=f"looptrace-{settings.service_name}-dlq-watch",
    )
    await consumer.start()
    try:
        parts = _partitions(consumer, topics)
        first = await consumer.beginning_offsets(parts) if parts else {}
        end = await consumer.end_offsets(parts) if parts else {}
    finally:
        await asyncio.sleep(0)  # aiokafka 0.14: stop() right after start() raises CancelledError
        await consumer.stop()
    out: dict[str, dict[int, PartitionOffsets]] = {}
    for tp in parts:
        out.setdefault(tp.topic, {})[tp.partition] = PartitionOffsets(first[tp], end[tp])
    return out


def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    parts = []
    for topic in topics:
        found = consumer.partitions_for_topic(topic)
        if not found:
            log.debug("dead-letter topic %s does not exist yet; skipped", topic)
        parts += [TopicPartition(topic, p) for p in sorted(found or ())]
    return parts
