"""The invariants after the faults: every order where it should be in every service, every
effect once, nothing dead-lettered but the test's own poison, nothing parked, no lag."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from looptrace_shared.system import SERVICES
from looptrace_shared.topics import ALL_TOPICS, PREDICTIONS_ALERTS, dlq

from .driver import ADMIN, Order

LIFE = [
    "placed",
    "assigned_to_supplier",
    "in_production",
    "quality_check",
    "shipped",
    "delivered",
    "completed",
]
# the consumer groups and what they read (handlers.py of each service)
GROUPS = {
    "orders": ("orders.inbound.v1", "production.events.v1", "quality.events.v1"),
    "production": ("orders.events.v1", "production.progress.v1", "quality.events.v1"),
    "quality": ("production.events.v1", "quality.inbound.v1"),
    "notifications": (
        "orders.events.v1",
        "production.events.v1",
        "quality.events.v1",
        "predictions.alerts.v1",
    ),
    "predictions": ("orders.events.v1", "production.events.v1", "quality.events.v1"),
}
RISK_TYPES = {"delay_risk_raised", "delay_risk_cleared", "stage_delayed", "quality_risk_raised"}


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    mail: dict[str, int] = field(default_factory=dict)

    def check(self, ok: bool, what: str, detail: str = "") -> None:
        self.lines.append(
            f"  [{'ok' if ok else 'FAIL'}] {what}" + (f" — {detail}" if detail else "")
        )
        if not ok:
            self.failures.append(f"{what}: {detail}")


async def _rows(conn: asyncpg.Connection, sql: str, ids: list[str]) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql, ids))


async def check_orders(conn: asyncpg.Connection, ids: list[str], rep: Report) -> None:
    rows = await _rows(
        conn, "SELECT id, workflow_status FROM orders.orders WHERE id = ANY($1)", ids
    )
    wrong = [r["id"] for r in rows if r["workflow_status"] != "completed"]
    rep.check(len(rows) == len(ids) and not wrong, "orders: every order completed",
              f"{len(rows)}/{len(ids)} found, not completed: {wrong[:5]}")  # fmt: skip
    hist: dict[str, list[str]] = defaultdict(list)
    for r in await _rows(
        conn, "SELECT order_id, to_status FROM orders.status_history"
        " WHERE order_id = ANY($1) ORDER BY id", ids,
    ):  # fmt: skip
        hist[r["order_id"]].append(r["to_status"])
    bad = {i: hist[i] for i in ids if hist[i] != LIFE}
    rep.check(not bad, f"orders: history is exactly {len(LIFE)} rows {'→'.join(LIFE)}",
              f"{len(bad)} differ, e.g. {next(iter(bad.items()), None)}")  # fmt: skip


async def check_production(
    conn: asyncpg.Connection, orders: list[Order], urls: dict[str, str], rep: Report
) -> None:
    ids = [o.id for o in orders]
    counts = {
        r["order_id"]: (r["n"], r["distinct_ids"])
        for r in await _rows(
            conn, "SELECT order_id, count(*) n, count(DISTINCT message_id) distinct_ids"
            " FROM production.progress_log WHERE order_id = ANY($1) GROUP BY order_id", ids,
        )
    }  # fmt: skip
    bad = {o.id: counts.get(o.id) for o in orders if counts.get(o.id) != (o.reports, o.reports)}
    rep.check(not bad, "production: one timeline (progress log) row per report sent",
              f"{len(bad)} differ (rows, distinct) e.g. {next(iter(bad.items()), None)}")  # fmt: skip
    not_done = await _stages_not_completed(orders, urls["production"])
    rep.check(not not_done, "production: every stage completed (GET /timeline)",
              f"{len(not_done)} orders, e.g. {next(iter(not_done.items()), None)}")  # fmt: skip


async def _stages_not_completed(orders: list[Order], url: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    async with httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=30) as http:
        for o in orders:
            r = await http.get(f"/v1/orders/{o.id}/timeline")
            if r.status_code != 200:
                out[o.id] = [f"HTTP {r.status_code}"]
                continue
            stages = r.json()["stages"]
            pending = [f"{s['number']}:{s['status']}" for s in stages if s["status"] != "completed"]
            if pending or len(stages) != 8:
                out[o.id] = pending or [f"{len(stages)} stages"]
    return out


async def check_quality(conn: asyncpg.Connection, ids: list[str], rep: Report) -> None:
    found: dict[str, list[str]] = defaultdict(list)
    for r in await _rows(
        conn, "SELECT order_id, status, disposition FROM quality.inspections"
        " WHERE order_id = ANY($1)", ids,
    ):  # fmt: skip
        found[r["order_id"]].append(f"{r['status']}:{r['disposition']}")
    bad = {i: found[i] for i in ids if found[i] != ["decided:accepted"]}
    rep.check(not bad, "quality: one inspection per order, decided and accepted",
              f"{len(bad)} differ, e.g. {next(iter(bad.items()), None)}")  # fmt: skip


async def check_predictions(
    conn: asyncpg.Connection, ids: list[str], alerts: dict[str, list[dict[str, Any]]], rep: Report
) -> None:
    changes: dict[str, list[tuple[str | None, str]]] = defaultdict(list)
    for r in await _rows(
        conn, "SELECT order_id, previous_level, level FROM predictions.risk_history"
        " WHERE alerted AND order_id = ANY($1) ORDER BY id", ids,
    ):  # fmt: skip
        changes[r["order_id"]].append((r["previous_level"], r["level"]))
    broken = {}
    for i in ids:
        chain, prev = changes[i], None
        for before, after in chain:
            if before == after or before != prev:
                broken[i] = chain
            prev = after
    # an order whose whole life arrived in one batch (a restarted consumer catching up) is
    # closed before it is scored: no alert is right for it
    alerted = sum(1 for i in ids if changes[i])
    rep.check(not broken, "predictions: alerts only on a level change, each change once",
              f"{alerted} orders alerted; {len(broken)} broken chains, e.g. {next(iter(broken.items()), None)}")  # fmt: skip
    differ = {
        i: (len(changes[i]), len(alerts.get(i, [])))
        for i in ids
        if len(changes[i]) != len(alerts.get(i, []))
    }
    rep.check(not differ, "predictions: one delay_risk event (distinct id) per alerted change",
              f"{len(differ)} differ (history, published), e.g. {next(iter(differ.items()), None)}")  # fmt: skip


async def check_notifications(
    conn: asyncpg.Connection,
    ids: list[str],
    mails: list[dict[str, Any]],
    rep: Report,
    window: int,
) -> dict[str, int]:
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for r in await _rows(
        conn, "SELECT order_id, notification_type, recipient_role FROM notifications.notifications"
        " WHERE order_id = ANY($1)", ids,
    ):  # fmt: skip
        if r["notification_type"] not in RISK_TYPES:
            kinds[r["order_id"]][f"{r['recipient_role']}:{r['notification_type']}"] += 1
    usual, _ = Counter(frozenset(kinds[i].items()) for i in ids).most_common(1)[0]
    odd = {i: dict(kinds[i]) for i in ids if frozenset(kinds[i].items()) != usual}
    needed = {"buyer:order_confirmed", "buyer:production_started", "buyer:inspection_passed",
              "buyer:order_shipped", "buyer:order_delivered"}  # fmt: skip
    have = dict(usual)
    rep.check(not odd and all(have.get(k) == 1 for k in needed),
              f"notifications: every order has the same in-app notifications, once each ({sum(have.values())} an order)",
              f"{len(odd)} orders differ, e.g. {next(iter(odd.items()), None)}; usual {sorted(have.items())}")  # fmt: skip
    return await _check_mails(conn, ids, mails, rep, window)


async def _check_mails(
    conn: asyncpg.Connection, ids: list[str], mails: list[dict[str, Any]], rep: Report, window: int
) -> dict[str, int]:
    """``window``: how many mails may come twice (the mail in flight at each crash of the
    notifications service: accepted by the server, its outcome not yet committed)."""
    rows = await _rows(
        conn, "SELECT d.state, d.message_id, d.attempts FROM notifications.email_deliveries d"
        " JOIN notifications.notifications n ON n.id = d.notification_id"
        " WHERE n.order_id = ANY($1)", ids,
    )  # fmt: skip
    states = Counter(r["state"] for r in rows)
    rep.check(
        set(states) == {"sent"}, "notifications: every e-mail delivery sent", str(dict(states))
    )
    by_id = Counter(m["headers"].get("Message-ID") for m in mails)
    wanted = {r["message_id"] for r in rows}
    missing = [m for m in wanted if by_id[m] == 0]
    strangers = [m for m in by_id if m not in wanted]
    doubled = {m: n for m, n in by_id.items() if n > 1 and m in wanted}
    rep.check(not missing and not strangers, "e-mail: one received per (event, recipient)",
              f"{len(wanted)} deliveries, {len(missing)} never received, {len(strangers)} unknown")  # fmt: skip
    extra = sum(doubled.values()) - len(doubled)
    rep.check(extra <= window, "e-mail: sent again only in the documented window (same Message-ID)",
              f"{len(doubled)} of {len(wanted)} received twice or more ({extra} extra copies);"
              f" allowed {window}, one per kill of notifications")  # fmt: skip
    return {"mails": len(mails), "deliveries": len(wanted), "doubled": len(doubled)}


async def check_plumbing(conn: asyncpg.Connection, rep: Report) -> None:
    for schema in SERVICES:
        parked = await conn.fetchval(f"SELECT count(*) FROM {schema}.parked_messages")
        outbox = await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox")
        rep.check(parked == 0 and outbox == 0, f"{schema}: nothing parked, outbox empty",
                  f"parked {parked}, outbox {outbox}")  # fmt: skip


@dataclass
class Topics:
    """Every record of the topics, read from the start the way an outside consumer would."""

    records: dict[str, list[Any]]
    ends: dict[TopicPartition, int]  # offset after the last record seen (high watermark)


async def read_topics(bootstrap: str, topics: list[str], idle_s: float = 2.0) -> Topics:
    """Until nothing new came for ``idle_s`` and every end offset is reached (the embedded
    broker's end offsets stop at the last record batch's base offset + 1: only a lower bound)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        parts = [TopicPartition(t, p) for t in topics for p in await _partitions(consumer, t)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        lower = await consumer.end_offsets(parts)
        out: Topics = Topics({t: [] for t in topics}, {tp: 0 for tp in parts})
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_s or any(
            out.ends[tp] < lower[tp] for tp in parts
        ):
            batch = await consumer.getmany(timeout_ms=300)
            for tp, records in batch.items():
                out.records[tp.topic] += records
                out.ends[tp] = records[-1].offset + 1
                quiet_since = time.monotonic()
        return out
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh client knows no topics
        await asyncio.sleep(0.1)
    raise AssertionError(f"topic {topic} has no partitions")


def published_alerts(topics: Topics) -> dict[str, list[dict[str, Any]]]:
    by_order: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in topics.records[PREDICTIONS_ALERTS]:
        e = json.loads(r.value)
        if e["type"] != "predictions.delay_risk":  # quality risk: its own chain (not checked here)
            continue
        by_order[e["subject"]][e["id"]] = e  # the relay may publish one event twice
    return {k: list(v.values()) for k, v in by_order.items()}


def check_dead_letters(topics: Topics, poison: list[tuple[str, str]], rep: Report) -> None:
    expected = set(poison)
    letters: Counter[tuple[str, str]] = Counter()  # (original topic, offset): the relay may
    unexpected: list[str] = []  # publish a dead letter twice, it is still one dead letter
    for topic in ALL_TOPICS:
        for r in topics.records[dlq(topic)]:
            h = {k: v.decode() for k, v in r.headers or ()}
            coords = (h.get("original_topic", topic), h.get("original_offset", "?"))
            letters[coords] += 1
            if (coords[0], r.key.decode() if r.key else "") not in expected:
                unexpected.append(f"{coords}: {h.get('rule')}: {h.get('error', '')[:200]}")
    rep.check(not unexpected and len(letters) == len(poison),
              "dead letters: exactly the test's poison messages",
              f"{len(letters)} dead letters ({sum(letters.values())} records) for {len(poison)} sent;"
              f" unexpected: {sorted(set(unexpected))[:5]}")  # fmt: skip


async def consumer_lag(bootstrap: str, ends: dict[TopicPartition, int]) -> dict[str, int]:
    """Per group: records after its committed offsets, over the partitions of its topics."""
    lag: dict[str, int] = {}
    for group, topics in GROUPS.items():
        # a consumer of the group that never joins it: it only reads the committed offsets
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            lag[group] = 0
            for tp in (tp for tp in ends if tp.topic in topics):
                lag[group] += ends[tp] - (await consumer.committed(tp) or 0)
        finally:
            await consumer.stop()
    return lag


async def check_lag(bootstrap: str, rep: Report, timeout_s: float = 60) -> Topics:
    """Waits until every group has committed all it reads; returns what the topics hold."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    names = [*ALL_TOPICS, *(dlq(t) for t in ALL_TOPICS)]
    while True:
        topics = await read_topics(bootstrap, names)
        lag = await consumer_lag(bootstrap, topics.ends)
        if not any(lag.values()) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(1)
    rep.check(
        not any(lag.values()), "every consumer group's lag drained (committed = end)", str(lag)
    )
    return topics
