"""Looking at the running system from outside: when it has settled, and what each service holds.

"Settled": every consumer group has committed up to the end of every topic it reads, and
every service's outbox is empty (so what a message caused, dead letters included, is out) —
twice in a row. The state is read from each service's own schema, as an operator would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from looptrace_production.domain import Plan
from looptrace_production.plan_codec import decode_plan
from looptrace_shared import topics as t

GROUPS = {
    "orders": (t.ORDERS_INBOUND, t.PRODUCTION_EVENTS, t.QUALITY_EVENTS),
    "production": (t.ORDERS_EVENTS, t.PRODUCTION_PROGRESS, t.QUALITY_EVENTS),
    "quality": (t.PRODUCTION_EVENTS, t.QUALITY_INBOUND),
    "notifications": (t.ORDERS_EVENTS, t.PRODUCTION_EVENTS, t.QUALITY_EVENTS, t.PREDICTIONS_ALERTS),
    "predictions": (t.ORDERS_EVENTS, t.PRODUCTION_EVENTS, t.QUALITY_EVENTS),
}
SCHEMAS = tuple(GROUPS)
INBOUND = (t.ORDERS_INBOUND, t.PRODUCTION_PROGRESS, t.QUALITY_INBOUND)


@dataclass
class OrderView:
    """One order as each service holds it (None: that service does not know it)."""

    order_id: str
    orders: dict[str, Any] | None = None
    plan: Plan | None = None
    production_supplier: str | None = None
    lot_supplier: str | None = None
    inspections: list[dict[str, Any]] = field(default_factory=list)
    contact_supplier: str | None = None
    predicted_supplier: str | None = None


class Probe:
    def __init__(self, bootstrap: str, database_url: str) -> None:
        self.bootstrap = bootstrap
        self.engine: AsyncEngine = create_async_engine(database_url, pool_size=2)
        # one consumer per service's group, never subscribed: it only reads committed offsets
        self.groups = {
            g: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=g, enable_auto_commit=False)
            for g in GROUPS
        }
        self.ends = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        self.dlq = AIOKafkaConsumer(
            *[t.dlq(topic) for topic in INBOUND],
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
        )
        self.dead: dict[str, dict[str, str]] = {}  # original envelope id -> dead-letter headers

    async def start(self) -> None:
        for c in self.groups.values():
            await c.start()
        await self.ends.start()
        await self.dlq.start()

    async def stop(self) -> None:
        await self.dlq.stop()
        await self.ends.stop()
        for c in self.groups.values():
            await c.stop()
        await self.engine.dispose()

    # ---- settling ---------------------------------------------------------------------

    async def lag(self) -> int:
        return sum((await self.lags()).values())

    async def lags(self) -> dict[tuple[str, str, int], int]:
        """Messages each group has not committed yet, per partition (only those behind)."""
        behind: dict[tuple[str, str, int], int] = {}
        for group, topics in GROUPS.items():
            parts = [
                TopicPartition(topic, p)
                for topic in topics
                for p in sorted(self.ends.partitions_for_topic(topic) or ())
            ]
            ends = await self.ends.end_offsets(parts)
            # one OffsetFetch for all of the group's partitions (``committed`` asks one by one)
            coordinator = self.groups[group]._coordinator
            committed = await coordinator.fetch_committed_offsets(parts)
            for tp in parts:
                done = committed.get(tp)
                left = ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0)
                if left > 0:  # (an end read before the group's last commit may be behind it)
                    behind[(group, tp.topic, tp.partition)] = left
        return behind

    async def outbox_rows(self) -> int:
        q = " + ".join(f"(SELECT count(*) FROM {s}.outbox)" for s in SCHEMAS)
        async with self.engine.connect() as c:
            return int((await c.execute(text(f"SELECT {q}"))).scalar() or 0)

    async def settle(self, timeout: float = 60) -> None:
        await self.ends.topics()  # fresh metadata: partitions_for_topic knows every topic
        deadline, calm = asyncio.get_running_loop().time() + timeout, 0
        while calm < 2:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"the system did not settle in {timeout:.0f}s (lag {await self.lags()}, "
                    f"outbox {await self.outbox_rows()})"
                )
            quiet = await self.lag() == 0 and await self.outbox_rows() == 0
            calm = calm + 1 if quiet else 0
            await asyncio.sleep(0.15)
        await self.read_dead_letters()

    async def read_dead_letters(self) -> None:
        while batch := await self.dlq.getmany(timeout_ms=300, max_records=10000):
            self._keep_dead(batch)

    def _keep_dead(self, batch: dict[TopicPartition, list[Any]]) -> None:
        for records in batch.values():
            for r in records:
                try:
                    original = json.loads(r.value)["id"]
                except (ValueError, KeyError, TypeError):
                    continue
                self.dead[str(original)] = {k: v.decode() for k, v in (r.headers or [])}

    # ---- reading --------------------------------------------------------------------

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as c:
            return [dict(r._mapping) for r in await c.execute(text(sql), params)]

    async def views(self, order_ids: list[str]) -> dict[str, OrderView]:
        views = {oid: OrderView(oid) for oid in order_ids}
        ids = {"ids": order_ids}
        for r in await self.rows("SELECT * FROM orders.orders WHERE id = ANY(:ids)", **ids):
            views[r["id"]].orders = r
        plans = "SELECT order_id, supplier_id, plan::text AS plan FROM production.supplier_orders"
        for r in await self.rows(plans + " WHERE order_id = ANY(:ids)", **ids):
            v = views[r["order_id"]]
            v.plan, v.production_supplier = decode_plan(r["plan"]), r["supplier_id"]
        lots = "SELECT order_id, supplier_id FROM quality.order_lots WHERE order_id = ANY(:ids)"
        for r in await self.rows(lots, **ids):
            views[r["order_id"]].lot_supplier = r["supplier_id"]
        booked = (
            "SELECT * FROM quality.inspections WHERE order_id = ANY(:ids) ORDER BY scheduled_at"
        )
        for r in await self.rows(booked, **ids):
            views[r["order_id"]].inspections.append(r)
        book = "SELECT order_id, supplier_id FROM notifications.order_contacts"
        for r in await self.rows(book + " WHERE order_id = ANY(:ids)", **ids):
            views[r["order_id"]].contact_supplier = r["supplier_id"]
        feats = "SELECT order_id, supplier_id FROM predictions.order_features"
        for r in await self.rows(feats + " WHERE order_id = ANY(:ids)", **ids):
            views[r["order_id"]].predicted_supplier = r["supplier_id"]
        return views

    async def processed(self, ids: list[str]) -> set[str]:
        """Envelope ids a consumer recorded (inbox, or production's progress log)."""
        inbox = " UNION ".join(
            f"SELECT event_id AS id FROM {s}.inbox WHERE event_id = ANY(:ids)"
            for s in ("orders", "quality")
        )
        logged = "SELECT message_id AS id FROM production.progress_log WHERE message_id = ANY(:ids)"
        return {r["id"] for r in await self.rows(f"{inbox} UNION {logged}", ids=ids)}

    async def parked_ids(self) -> set[str]:
        """Envelope ids of the messages parked now, in any service."""
        union = " UNION ALL ".join(f"SELECT value FROM {s}.parked_messages" for s in SCHEMAS)
        found = set()
        for r in await self.rows(union):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                found.add(str(json.loads(bytes(r["value"]))["id"]))
        return found

    async def parked_since(self) -> list[tuple[str, datetime, str]]:
        union = " UNION ALL ".join(
            f"SELECT '{s}' AS service, parked_at, reason FROM {s}.parked_messages" for s in SCHEMAS
        )
        return [(r["service"], r["parked_at"], r["reason"]) for r in await self.rows(union)]


def overdue(parked_at: datetime, timeout_s: float, slack_s: float = 5) -> bool:
    return datetime.now(UTC) - parked_at > timedelta(seconds=timeout_s + slack_s)
