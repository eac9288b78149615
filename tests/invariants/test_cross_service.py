"""Cross-service invariants under randomly ordered outside events (a seeded state machine).

The five services run as processes on the real broker and PostgreSQL (the session's system).
The machine plays the upstream system, the supplier integrations and the inspectors: orders
placed, assigned and reassigned, progress in any order (early, late, repeated, backwards),
inspection results pass and fail, shipments, cancellations, deliveries. After each step the
system settles, then every invariant is checked:

- orders, production and quality agree on the order's state, and every service on its supplier;
- no order is shipped with an open or failed inspection;
- every message took effect or is in its ``.dlq`` with a reason (``error`` and ``rule``);
- nothing stays parked past its timeout;
- each e-mail is sent once per (event, recipient).

Each step is one outside event drawn by a seeded ``random.Random`` (weighted so orders make
progress); a failure names the seed and the steps so far, and the same seed replays them
(the services' own timing aside). The bounded variant (in the test command) runs fixed seeds;
the long one is the same machine with more seeds and steps (``INVARIANT_SEEDS``,
``INVARIANT_STEPS``; see the README).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from looptrace_production.events import StageStatus
from looptrace_shared.system import System

from ..conftest import PARKING_TIMEOUT_S, Inbox
from .probe import OrderView, Probe, overdue

pytestmark = pytest.mark.e2e

SEEDS = [int(s) for s in os.environ.get("INVARIANT_SEEDS", "1").split(",")]
STEPS = int(os.environ.get("INVARIANT_STEPS", "24"))
VERBOSE = bool(os.environ.get("INVARIANT_VERBOSE"))
SUPPLIERS = ("sup-a", "sup-b")
SHIPPED = {"shipped", "delivered", "completed"}


def envelope(type_: str, subject: str, data: dict[str, Any]) -> tuple[str, bytes]:
    eid = str(uuid.uuid4())
    body = {"id": eid, "type": type_, "source": "invariants", "time": datetime.now(UTC).isoformat(),
            "subject": subject, "schema_version": "1", "data": data}  # fmt: skip
    return eid, json.dumps(body).encode()


class Outside:
    """The world around LoopTrace, sending what the real outside would, in any order."""

    def __init__(self, system: System, inbox: Inbox, seed: int) -> None:
        self.system, self.inbox, self.rng = system, inbox, random.Random(seed)
        self.loop = asyncio.new_event_loop()
        self.run_id = f"{seed}-{uuid.uuid4().hex[:6]}"
        self.pool = [f"inv-{self.run_id}-{n}" for n in range(3)]
        self.sent: dict[str, tuple[str, bytes, str]] = {}  # envelope id -> (topic, value, oid)
        self.last: dict[str, tuple[str, bytes]] = {}
        self.steps: list[str] = []
        self.run(self._open())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _open(self) -> None:
        bootstrap = self.system.env["KAFKA_BOOTSTRAP_SERVERS"]
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await self.producer.start()
        self.probe = Probe(bootstrap, self.system.env["DATABASE_URL"])
        await self.probe.start()

    def close(self) -> None:
        statuses = {oid: (v.orders or {}).get("workflow_status") for oid, v in self.views().items()}
        rules = Counter(self.probe.dead[e].get("rule") for e in self.sent if e in self.probe.dead)
        print(f"invariants: {len(self.steps)} steps, {len(self.sent)} messages, "
              f"dead letters {dict(rules)}, orders {statuses}")  # fmt: skip
        self.run(self.producer.stop())
        self.run(self.probe.stop())
        self.loop.close()

    # ---- driving ------------------------------------------------------------------------

    def begin(self) -> None:
        """Two orders placed and assigned; the third stays unknown (its events come early)."""
        for oid in self.pool[:2]:
            self.place_order(oid)
            self.assign_supplier(oid)
        self.run(self.probe.settle())
        self.check()

    def step(self) -> None:
        actions = [
            (self.place_order, 2), (self.assign_supplier, 2),
            (self.supplier_finishes_the_next_stage, 8), (self.supplier_reports_anything, 2),
            (self.the_last_message_is_delivered_again, 1), (self.inspector_submits_a_result, 3),
            (self.upstream_ships, 2), (self.upstream_cancels, 0.4),
            (self.buyer_confirms_delivery, 1),
        ]  # fmt: skip
        action = self.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
        action(self.rng.choice(self.pool))
        started = time.monotonic()
        self.run(self.probe.settle())
        if VERBOSE:
            print(f"    settled in {time.monotonic() - started:.1f}s")
        self.check()

    def send(self, topic: str, type_: str, oid: str, data: dict[str, Any]) -> None:
        eid, value = envelope(type_, oid, {"order_id": oid, **data})
        self.steps.append(f"{type_} {oid} {json.dumps(data, default=str)[:160]}")
        if VERBOSE:
            print("  " + self.steps[-1])
        self.sent[eid] = (topic, value, oid)
        self.last[oid] = (topic, value)
        self.run(self.producer.send_and_wait(topic, value, key=oid.encode()))

    def views(self) -> dict[str, OrderView]:
        return self.run(self.probe.views(self.pool))  # type: ignore[no-any-return]

    # ---- the outside world --------------------------------------------------------------

    def place_order(self, oid: str) -> None:
        n = self.pool.index(oid)
        self.send("orders.inbound.v1", "OrderPlaced", oid, {
            "order_number": f"PO-{oid}", "buyer": {"id": f"buyer-{n}", "name": "B",
            "email": f"buyer-{n}-{self.run_id}@buyer.example"}, "product_type": "tee",
            "product_category": self.rng.choice(["knitwear", "cut-and-sew"]), "quantity": 200,
            "currency": "EUR", "unit_price": "4.00", "has_print": False,
            "target_date": str(date.today() + timedelta(days=150)),
        })  # fmt: skip

    def assign_supplier(self, oid: str) -> None:
        supplier = f"{self.rng.choice(SUPPLIERS)}-{self.run_id}"
        party = {"id": supplier, "name": supplier, "email": f"{supplier}@factory.example"}
        self.send("orders.inbound.v1", "SupplierAssigned", oid, {"supplier": party})

    def supplier_finishes_the_next_stage(self, oid: str) -> None:
        plan = self.views()[oid].plan
        todo = (
            [s for s in plan.active_stages if s.status is not StageStatus.COMPLETED] if plan else []
        )
        stage = todo[0].number if todo else 1  # no plan yet: an early report
        self.report(oid, stage, self.rng.choice([100, 100, 50]), datetime.now(UTC))

    def supplier_reports_anything(self, oid: str) -> None:
        when = self.rng.choice([timedelta(0), timedelta(days=-1), timedelta(days=1)])
        stage, pct = self.rng.randint(1, 10), self.rng.choice([0, 40, 100, 130])
        self.report(oid, stage, pct, datetime.now(UTC) + when, self.rng.random() < 0.3)

    def report(
        self, oid: str, stage: int, pct: int, at: datetime, correction: bool = False
    ) -> None:
        data = {"stage": stage, "percentage": pct, "reported_at": at.isoformat()}
        self.send(
            "production.progress.v1", "ProgressReported", oid, {**data, "correction": correction}
        )

    def the_last_message_is_delivered_again(self, oid: str) -> None:
        if oid not in self.last:
            return self.place_order(oid)
        topic, value = self.last[oid]
        self.steps.append(f"(again) {topic} {oid}")
        self.run(self.producer.send_and_wait(topic, value, key=oid.encode()))
        return None

    def inspector_submits_a_result(self, oid: str) -> None:
        open_ = [i for i in self.views()[oid].inspections if i["status"] == "scheduled"]
        target = {"inspection_id": open_[-1]["id"]} if open_ else {}  # none: it waits (parks)
        passed = self.rng.random() < 0.6
        defects = [] if passed else [{"defect_class": "major", "count": 40}]
        self.send("quality.inbound.v1", "InspectionResultSubmitted", oid, {
            **target, "inspector": "QC Ltd", "sample_inspected": 50, "defects": defects})  # fmt: skip

    def upstream_ships(self, oid: str) -> None:
        self.send("orders.inbound.v1", "OrderShipped", oid, {
            "carrier": "DHL", "tracking_number": uuid.uuid4().hex[:8],
            "quantity_shipped": self.rng.choice([50, 200]),
            "shipped_at": datetime.now(UTC).isoformat(),
        })  # fmt: skip

    def upstream_cancels(self, oid: str) -> None:
        self.send("orders.inbound.v1", "OrderCancelled", oid, {"reason": "buyer"})

    def buyer_confirms_delivery(self, oid: str) -> None:
        at = datetime.now(UTC).isoformat()
        self.send("orders.inbound.v1", "DeliveryConfirmed", oid, {"delivered_at": at})

    # ---- invariants ---------------------------------------------------------------------

    def check(self) -> None:
        for view in self.views().values():
            agree(view)
        self.every_message_took_effect_or_is_a_dead_letter_with_a_reason()
        self.nothing_is_parked_past_its_timeout()
        self.each_mail_once_per_event_and_recipient()

    def every_message_took_effect_or_is_a_dead_letter_with_a_reason(self) -> None:
        missing = self.unaccounted()
        if missing:  # one may have left the parked messages for the dead letters just now
            self.run(self.probe.settle())
            missing = self.unaccounted()
        for eid in missing:
            topic, _, oid = self.sent[eid]
            raise AssertionError(f"{topic} message {eid} of {oid} was lost")

    def unaccounted(self) -> list[str]:
        waiting = self.run(self.probe.parked_ids())
        done = self.run(self.probe.processed(list(self.sent)))
        self.run(self.probe.read_dead_letters())
        missing = []
        for eid in self.sent:
            dead = self.probe.dead.get(eid)
            if dead is not None:
                assert dead.get("error") and dead.get("rule"), f"dead letter without reason: {dead}"
            elif eid not in done and eid not in waiting:
                missing.append(eid)
        return missing

    def nothing_is_parked_past_its_timeout(self) -> None:
        for service, since, reason in self.run(self.probe.parked_since()):
            assert not overdue(since, PARKING_TIMEOUT_S), (
                f"{service} parked since {since}: {reason}"
            )

    def each_mail_once_per_event_and_recipient(self) -> None:
        keys = Counter(
            (m["headers"].get("X-LoopTrace-Event"), tuple(m["to"]))
            for m in self.inbox.mails
            if m["headers"].get("X-LoopTrace-Event")
        )
        doubled = {k: n for k, n in keys.items() if n > 1}
        assert not doubled, f"mails sent more than once: {doubled}"


def agree(v: OrderView) -> None:
    """The order's state as orders, production and quality hold it tells one story."""
    if v.orders is None:
        assert v.plan is None, f"{v.order_id}: production planned an order orders does not know"
        return
    status, supplier = v.orders["workflow_status"], v.orders["supplier_id"]
    for who, held in (("production", v.production_supplier), ("quality", v.lot_supplier),
                      ("notifications", v.contact_supplier),
                      ("predictions", v.predicted_supplier)):  # fmt: skip
        assert held in (None, supplier), (
            f"{v.order_id}: {who} says supplier {held}, orders {supplier}"
        )
    for i in v.inspections:
        if i["status"] == "scheduled":
            assert i["supplier_id"] == supplier, f"{v.order_id}: open inspection charged to {i}"
    latest = latest_per_stage(v.inspections)
    open_ = [i for i in latest if i["status"] == "scheduled"]
    failed = [i for i in latest if i["disposition"] == "rejected"]
    if status in SHIPPED:
        assert not open_ and not failed, f"{v.order_id} is {status} with inspections {latest}"
    if open_:
        assert status in ("quality_check", "cancelled"), f"{v.order_id}: {status} with {open_}"
    if failed:
        assert status in ("in_production", "delayed", "cancelled"), (
            f"{v.order_id}: {status}, {failed}"
        )
    if v.plan is None:
        return
    gate_open = not v.plan.gate_blockers()
    assert gate_open == (v.orders["qc_passed_inspections"] is not None), (
        f"{v.order_id}: production's gate {'open' if gate_open else v.plan.gate_blockers()}, "
        f"orders' {v.orders['qc_passed_inspections']}"
    )
    if status in SHIPPED:
        assert gate_open, (
            f"{v.order_id} is {status} but the QC gate waits: {v.plan.gate_blockers()}"
        )
    for stage in v.plan.active_stages:
        if stage.shipping and stage.status is StageStatus.COMPLETED:
            assert status in SHIPPED | {"cancelled"}, (
                f"{v.order_id}: goods shipped, orders {status}"
            )
        if stage.qc and any(i["stage_number"] == stage.number for i in failed):
            assert stage.status is not StageStatus.COMPLETED, f"{v.order_id}: {stage.label} failed"


def latest_per_stage(inspections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[Any, dict[str, Any]] = {}
    for i in inspections:  # in booking order
        latest[i["stage_number"]] = i
    return list(latest.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_service_invariants(system: System, smtp: tuple[Inbox, int], seed: int) -> None:
    world = Outside(system, smtp[0], seed)
    try:
        world.run(world.probe.settle())
        world.begin()
        for _ in range(STEPS):
            try:
                world.step()
            except AssertionError as broken:
                steps = "\n  ".join(world.steps)
                raise AssertionError(f"seed {seed}, after:\n  {steps}\n{broken}") from None
    finally:
        world.close()
