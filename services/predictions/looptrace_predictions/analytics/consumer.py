"""The analytics consumer group and the rebuild: the journal in, the read model out.

The group (``predictions-analytics``) is apart from the delay-risk worker's: the read model
keeps its own offsets, its own pace, and can be rebuilt without touching the models.
Each consumed event is appended to ``analytics_journal`` in the batch's transaction; the
journal's unique event id recognises a redelivery, so the inbox is not needed as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics import store
from looptrace_predictions.analytics.projector import REACTIONS, project
from looptrace_predictions.analytics.tables import JournalRow
from looptrace_shared.db import text_array
from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.messaging.dispatch import ConsumerGroup, Context, Outcomes
from looptrace_shared.messaging.incoming import Incoming, Record, parse_record
from looptrace_shared.runtime import Runtime
from looptrace_shared.topics import (
    NOTIFICATIONS_OUTBOUND,
    ORDERS_EVENTS,
    PRODUCTION_EVENTS,
    QUALITY_EVENTS,
)

log = logging.getLogger(__name__)

GROUP = "predictions-analytics"
TOPICS = (ORDERS_EVENTS, PRODUCTION_EVENTS, QUALITY_EVENTS, NOTIFICATIONS_OUTBOUND)
JOURNAL = JournalRow.__table__.fullname
REPLAY_CHUNK = 5000


async def journal(session: AsyncSession, items: list[Incoming]) -> list[Incoming]:
    """Append the events not journaled before; return those (in order, each once)."""
    if not items:
        return []
    params: dict[str, Any] = {}
    cols = [
        text_array(params, "ids", [i.event_id for i in items]),
        text_array(params, "subjects", [i.subject for i in items]),
        text_array(params, "types", [i.type for i in items]),
        text_array(params, "topics", [i.record.topic for i in items]),
        text_array(params, "envelopes", [i.record.value.decode() for i in items]),
    ]
    sql = text(
        f"INSERT INTO {JOURNAL} (event_id, order_id, type, topic, envelope)"
        f" SELECT a, b, c, d, e FROM unnest({', '.join(cols)}) WITH ORDINALITY AS r(a, b, c, d, e, n)"
        " ORDER BY n ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
    )
    fresh = set((await session.execute(sql, params)).scalars())
    out = []
    for i in items:
        if i.event_id in fresh:
            fresh.discard(i.event_id)  # a repeat inside the batch is applied once
            out.append(i)
    return out


@dataclass
class Projection(Context):
    """One batch of the read model: the events the journal took (not seen before)."""

    fresh: list[Incoming] = field(default_factory=list)


async def preload(ctx: Projection, items: list[Incoming]) -> None:
    """Journal the batch's events; those not journaled before are the ones to project."""
    ctx.fresh = await journal(ctx.uow.session, [i for i in items if i.type in REACTIONS])


async def when_event_project_it(ctx: Projection, item: Incoming) -> None:
    """Nothing one by one: the journaled events are projected together (``save``)."""


async def save(ctx: Projection, items: list[Incoming], outcomes: Outcomes) -> None:
    """Project the fresh events; only those count as processed (a repeat changes nothing)."""
    outcomes.processed = await project(ctx.uow.session, ctx.fresh)


def consumer_groups(rt: Runtime[Any, Any]) -> list[ConsumerGroup[Projection]]:
    # every type is recognised by the journal (``idempotent``): no inbox row per event
    return [
        ConsumerGroup(
            GROUP,
            TOPICS,
            dict.fromkeys(REACTIONS, when_event_project_it),
            context=Projection,
            preload=preload,
            save=save,
            idempotent=frozenset(EVENT_TYPES),
        )
    ]


async def rebuild(sessions: Any, progress: Callable[[int], None] = lambda n: None) -> int:
    """Empty the derived tables and replay the journal into them, in the order it was taken.

    One transaction: readers see the old figures until the new ones are complete.
    """
    done = 0
    async with sessions() as session:
        await session.execute(text(f"LOCK TABLE {JOURNAL} IN SHARE MODE"))
        await store.truncate_derived(session)
        after = 0
        while True:
            rows = (
                await session.execute(
                    text(
                        f"SELECT seq, event_id, order_id, topic, envelope FROM {JOURNAL}"
                        " WHERE seq > :after ORDER BY seq LIMIT :n"
                    ),
                    {"after": after, "n": REPLAY_CHUNK},
                )
            ).all()
            if not rows:
                break
            after = rows[-1].seq
            items = [_incoming(r) for r in rows]
            done += await project(session, [i for i in items if i is not None])
            progress(len(rows))
        await session.commit()
    return done


def _incoming(row: Any) -> Incoming | None:
    record = Record(row.topic, 0, row.seq, row.order_id.encode(), row.envelope.encode())
    parsed = parse_record(record)
    if isinstance(parsed, Incoming):
        return parsed
    log.warning("journal row %s is no longer readable: %s", row.event_id, parsed.error)
    return None
