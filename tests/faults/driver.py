"""Outside systems driving orders through their whole life: an upstream system and a supplier
integration publishing on Kafka (a plain aiokafka producer, at least once: it resends after
an error and sometimes sends a message twice), inspectors and buyers over HTTP."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from looptrace_shared.auth import mint_token
from looptrace_shared.settings import DEV_JWT_SECRET
from looptrace_shared.topics import (
    ORDERS_EVENTS,
    ORDERS_INBOUND,
    PRODUCTION_EVENTS,
    PRODUCTION_PROGRESS,
    QUALITY_EVENTS,
    QUALITY_INBOUND,
)

ADMIN = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'admin', 'ops-1')}"}


def envelope(type_: str, subject: str, data: dict[str, Any]) -> bytes:
    """Built by hand, the way an outside system would."""
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": type_,
            "source": "fault-test",
            "time": datetime.now(UTC).isoformat(),
            "subject": subject,
            "schema_version": "1",
            "correlation_id": f"corr-{subject}",
            "data": data,
        }
    ).encode()


@dataclass
class Order:
    n: int
    id: str
    over_http: bool  # inspection result and delivery over HTTP (else Kafka)
    step: str = "not started"
    reports: int = 0

    @property
    def buyer(self) -> dict[str, str]:
        b = self.n % 10
        return {"id": f"buyer-{b}", "name": f"Buyer {b}", "email": f"buyer{b}@buyer.example"}

    @property
    def supplier(self) -> dict[str, str]:
        s = self.n % 4
        return {"id": f"sup-{s}", "name": f"Knit Co {s}", "email": f"ops{s}@knit.example"}


class Watcher:
    """Reads the services' event topics from the start (no consumer group), the way an
    outside consumer would, and wakes the orders waiting for an event."""

    TOPICS = (ORDERS_EVENTS, PRODUCTION_EVENTS, QUALITY_EVENTS)

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            *self.TOPICS, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
        )
        self.seen: dict[tuple[str, str], dict[str, Any]] = {}
        self.changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()

    async def _run(self) -> None:
        while True:
            try:
                batch = await self.consumer.getmany(timeout_ms=200)
            except KafkaError:
                await asyncio.sleep(0.5)
                continue
            if not batch:
                continue
            for records in batch.values():
                for r in records:
                    e = json.loads(r.value)
                    key = e["type"]
                    if key == "order.status_changed":
                        key = f"status:{e['data']['to_status']}"
                    self.seen.setdefault((e["subject"], key), e)
            async with self.changed:
                self.changed.notify_all()

    async def wait(self, order_id: str, key: str) -> dict[str, Any]:
        async with self.changed:
            await self.changed.wait_for(lambda: (order_id, key) in self.seen)
        return self.seen[(order_id, key)]


@dataclass
class Traffic:
    """What the outside systems did, to compare the system against."""

    sent: Counter[str] = field(default_factory=Counter)
    resent_after_error: int = 0
    sent_twice: int = 0
    http_retries: Counter[str] = field(default_factory=Counter)
    poison: list[tuple[str, str]] = field(default_factory=list)


class Driver:
    def __init__(self, bootstrap: str, urls: dict[str, str], seed: int, dup_share: float) -> None:
        self.bootstrap = bootstrap
        self.urls = urls
        self.rng = random.Random(seed)
        self.dup_share = dup_share
        self.traffic = Traffic()
        self.watcher = Watcher(bootstrap)
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        self.http = httpx.AsyncClient(timeout=15, headers=ADMIN)
        self.orders: list[Order] = []
        self.first_sent = self.last_done = 0.0

    async def start(self) -> None:
        await self.producer.start()
        await self.watcher.start()

    async def stop(self) -> None:
        await self.watcher.stop()
        await self.producer.stop()
        await self.http.aclose()

    # ---- sending, at least once -----------------------------------------------------

    async def send(self, topic: str, value: bytes, key: str) -> None:
        for _ in range(120):
            try:
                await self.producer.send_and_wait(topic, value, key=key.encode())
                break
            except KafkaError:
                self.traffic.resent_after_error += 1
                await asyncio.sleep(0.5)
        else:
            raise AssertionError(f"could not publish to {topic} for a minute")
        self.traffic.sent[topic] += 1
        if self.rng.random() < self.dup_share:  # an upstream that repeats itself
            await self.producer.send_and_wait(topic, value, key=key.encode())
            self.traffic.sent_twice += 1

    async def post(self, service: str, path: str, body: dict[str, Any] | None = None) -> None:
        """POST until it is done; a 409 after a retry means the first attempt was applied
        (its response was lost), which the final checks confirm."""
        for attempt in range(300):
            try:
                r = await self.http.post(self.urls[service] + path, json=body)
            except httpx.HTTPError:
                self.traffic.http_retries["no response"] += 1
            else:
                if r.status_code < 300 or (r.status_code == 409 and attempt > 0):
                    return
                if r.status_code < 500:
                    raise AssertionError(f"POST {service}{path}: {r.status_code} {r.text}")
                self.traffic.http_retries[str(r.status_code)] += 1
            await asyncio.sleep(0.5)
        raise AssertionError(f"POST {service}{path} kept failing")

    async def send_poison(self) -> None:
        """Messages that must end in the dead letters (and nothing else may)."""
        bad = {
            ORDERS_INBOUND: b'{"id": "not-an-envelope',
            PRODUCTION_PROGRESS: b"progress, but not JSON",
            QUALITY_INBOUND: envelope("InspectionResultSubmitted", "poison-q", {"order_id": 7}),
        }
        for topic, value in bad.items():
            key = f"poison-{topic}"
            await self.producer.send_and_wait(topic, value, key=key.encode())
            self.traffic.poison.append((topic, key))

    # ---- one order's life -------------------------------------------------------------

    def new_order(self) -> Order:
        n = len(self.orders)
        order = Order(n, str(uuid.UUID(int=self.rng.getrandbits(128))), over_http=n % 2 == 0)
        self.orders.append(order)
        return order

    async def drive(self, o: Order) -> None:
        o.step = "placing"
        await self.send(ORDERS_INBOUND, self._placed(o), o.id)
        await self.send(
            ORDERS_INBOUND,
            envelope("SupplierAssigned", o.id, {"order_id": o.id, "supplier": o.supplier}),
            o.id,
        )
        o.step = "waiting for the plan"
        init = await self.watcher.wait(o.id, "production.stages_initialized")
        for stage in init["data"]["stages"]:
            for pct in (50, 100):
                o.step = f"stage {stage['stage_number']} at {pct}%"
                await self.send(PRODUCTION_PROGRESS, self._progress(o, stage, pct), o.id)
                o.reports += 1
            if stage["qc"]:
                await self._inspect(o)
        o.step = "waiting for shipped"
        await self.watcher.wait(o.id, "status:shipped")
        o.step = "confirming delivery"
        if o.over_http:
            await self.post("orders", f"/v1/orders/{o.id}/delivery")
        else:
            data = {"order_id": o.id, "delivered_at": datetime.now(UTC).isoformat()}
            await self.send(ORDERS_INBOUND, envelope("DeliveryConfirmed", o.id, data), o.id)
        o.step = "waiting for completed"
        await self.watcher.wait(o.id, "status:completed")
        o.step = "done"
        self.last_done = time.monotonic()

    async def _inspect(self, o: Order) -> None:
        o.step = "waiting for the inspection"
        scheduled = (await self.watcher.wait(o.id, "quality.inspection_scheduled"))["data"]
        o.step = "submitting the inspection result"
        result = {
            "inspector": "QC Partner Ltd",
            "sample_inspected": scheduled["sample_size"],
            "defects": [{"defect_class": "minor", "count": 1}],
        }
        if o.over_http:
            await self.post(
                "quality", f"/v1/inspections/{scheduled['inspection_id']}/result", result
            )
        else:
            data = {"order_id": o.id, "inspection_id": scheduled["inspection_id"], **result}
            await self.send(
                QUALITY_INBOUND, envelope("InspectionResultSubmitted", o.id, data), o.id
            )
        o.step = "waiting for the inspection to pass"
        await self.watcher.wait(o.id, "quality.inspection_passed")
        # Packing may only complete once production has recorded the result (the QC gate);
        # a knitwear plan has one QC stage, so production says so with quality_gate_passed.
        o.step = "waiting for production's QC gate"
        await self.watcher.wait(o.id, "production.quality_gate_passed")

    def _placed(self, o: Order) -> bytes:
        data = {
            "order_id": o.id,
            "order_number": f"PO-F{o.n:05d}",
            "buyer": o.buyer,
            "product_type": "sweater",
            "product_category": "knitwear",
            "style": "crew neck",
            "quantity": 500,
            "currency": "EUR",
            "unit_price": "12.50",
            "supplier_cost": "8.00",
            "target_date": str(date.today() + timedelta(days=120)),
        }
        return envelope("OrderPlaced", o.id, data)

    def _progress(self, o: Order, stage: dict[str, Any], pct: int) -> bytes:
        data = {
            "order_id": o.id,
            "stage": stage["stage_number"],
            "percentage": pct,
            "reported_at": datetime.now(UTC).isoformat(),
            "notes": f"{stage['stage_name']} at {pct}%",
        }
        return envelope("ProgressReported", o.id, data)

    # ---- many orders ------------------------------------------------------------------

    async def run(
        self, count: int, spread_s: float, settle_s: float, busy: asyncio.Task[None]
    ) -> list[Order]:
        """Start ``count`` orders evenly over ``spread_s``, and more at the same pace for as
        long as ``busy`` (the faults) runs, so that every fault meets orders in flight; then
        give the last ones ``settle_s`` to finish."""
        started = self.first_sent = time.monotonic()
        tasks = []
        i = 0
        while i < count or not busy.done():
            await asyncio.sleep(max(0.0, started + i * spread_s / count - time.monotonic()))
            tasks.append(asyncio.create_task(self.drive(self.new_order())))
            i += 1
        done, pending = await asyncio.wait(tasks, timeout=settle_s)
        for t in pending:
            t.cancel()
        for t in done:
            if t.exception() is not None:
                raise t.exception()  # type: ignore[misc]
        return self.orders

    def stuck(self) -> dict[str, list[str]]:
        by_step: dict[str, list[str]] = defaultdict(list)
        for o in self.orders:
            if o.step != "done":
                by_step[o.step].append(o.id)
        return dict(by_step)
