"""A synthetic season as the events the read model consumes (for the report demo, tests, bench).

Deterministic for a seed: orders of a few buyers and suppliers, each planned with a
ten-stage cut-and-sew plan, progressing with supplier-specific slips, inspected at the two
QC stages (some fail and are re-inspected), messages answered, most of them finished.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from looptrace_shared.envelope import new_envelope
from looptrace_shared.topics import (
    NOTIFICATIONS_OUTBOUND,
    ORDERS_EVENTS,
    PRODUCTION_EVENTS,
    QUALITY_EVENTS,
)

STAGES = [("Order Confirmation", 2, False), ("Fabric & Trim Sourcing", 10, False),
          ("Pattern & Grading", 5, False), ("Cutting", 3, False), ("Printing / Embroidery", 5, False),
          ("Sewing & Assembly", 14, False), ("Washing & Finishing", 3, False),
          ("Quality Control (Internal)", 2, True), ("Final Inspection", 2, True), ("Packaging", 2, False)]  # fmt: skip
CATEGORIES = ("cut-and-sew", "knitwear", "denim")


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes
    value: bytes


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def _plan(placed: date) -> list[dict[str, Any]]:
    """The stages planned back to back from the day after ``placed``."""
    plan, day = [], placed + timedelta(days=1)
    for n, (name, days, qc) in enumerate(STAGES, 1):
        plan.append({"stage_number": n, "stage_name": name, "status": "pending", "qc": qc,
                     "planned_start": day.isoformat(), "planned_end": (day + timedelta(days=days)).isoformat()})  # fmt: skip
        day += timedelta(days=days)
    return plan


class Season:
    def __init__(self, n_orders: int, seed: int = 1, start: date = date(2026, 1, 5),
                 suppliers: int = 6, buyers: int = 3) -> None:  # fmt: skip
        self.rng = random.Random(seed)
        self.n, self.start = n_orders, start
        self.suppliers = [f"sup-{i + 1:03d}" for i in range(suppliers)]
        self.buyers = [f"buyer-{i + 1:02d}" for i in range(buyers)]
        self.skill = {s: self.rng.uniform(0.0, 0.6) for s in self.suppliers}  # slip tendency

    def messages(self) -> Iterator[Message]:
        for i in range(self.n):
            yield from self.order(i)

    def order(self, i: int) -> Iterator[Message]:
        rng = self.rng
        oid, supplier = f"ord-{i:06d}", self.suppliers[i % len(self.suppliers)]
        placed = self.start + timedelta(days=int(i * 300 / max(1, self.n)))
        category = CATEGORIES[self.suppliers.index(supplier) % len(CATEGORIES)]
        target = placed + timedelta(days=sum(d for _, d, _ in STAGES) + 8)
        facts = {"order_id": oid, "order_number": f"PO-{i:06d}", "product_category": category,
                 "quantity": rng.choice((300, 600, 1200)), "target_date": target.isoformat()}  # fmt: skip
        buyer = {"id": self.buyers[i % len(self.buyers)], "name": "Buyer"}
        yield self._m(
            ORDERS_EVENTS,
            "order.created",
            oid,
            _at(placed),
            facts
            | {
                "buyer": buyer,
                "workflow_status": "confirmed",
                "currency": "EUR",
                "unit_price": "5.00",
            },
        )
        yield self._m(
            ORDERS_EVENTS,
            "order.supplier_assigned",
            oid,
            _at(placed, 10),
            facts
            | {
                "buyer": buyer,
                "supplier": {"id": supplier, "name": supplier},
                "assigned_by": "ops",
            },
        )
        yield from self._production(oid, supplier, placed, target, facts, buyer["id"])

    def _production(self, oid: str, supplier: str, placed: date, target: date,
                    facts: dict[str, Any], buyer: str) -> Iterator[Message]:  # fmt: skip
        plan = _plan(placed)
        yield self._m(PRODUCTION_EVENTS, "production.stages_initialized", oid, _at(placed, 11), facts | {
            "supplier_id": supplier, "buyer_id": buyer, "projected_completion": plan[-1]["planned_end"],
            "at_risk": False, "stages": plan})  # fmt: skip
        now = placed + timedelta(days=1 + self.rng.choice((0, 0, 1)))
        finish_by = self.start + timedelta(days=330)
        for n in range(1, len(STAGES) + 1):
            if now > finish_by:  # still open at the end of the season
                yield self._m(PRODUCTION_EVENTS, "production.plan_reforecast", oid, _at(now), {
                    "order_id": oid, "order_number": facts["order_number"],
                    "projected_completion": (now + timedelta(days=20)).isoformat(),
                    "previous_projected_completion": plan[-1]["planned_end"],
                    "target_date": target.isoformat(), "slip_days": 0})  # fmt: skip
                return
            now = yield from self._stage(oid, supplier, facts, n, now)
        yield from self._delivery(oid, facts, now)

    def _stage(
        self, oid: str, supplier: str, facts: dict[str, Any], n: int, now: date
    ) -> Generator[Message, None, date]:
        """Stage ``n`` started on ``now``, half done, completed after its days and the
        supplier's slip (then its inspections, and maybe a conversation); returns its end."""
        name, days, qc = STAGES[n - 1]
        ref = {
            "order_id": oid,
            "order_number": facts["order_number"],
            "stage_number": n,
            "stage_name": name,
        }
        yield from self._stage_begun(oid, ref, now)
        slip = max(0, round(self.rng.gauss(self.skill[supplier] * days / 3, 1.0)))
        now += timedelta(days=days + slip)
        yield self._m(
            PRODUCTION_EVENTS,
            "production.stage_completed",
            oid,
            _at(now, 17),
            ref | {"completed_at": _at(now, 17).isoformat(), "qc": qc},
        )
        if qc:
            yield from self._inspections(oid, facts, supplier, n, name, now)
        if n == 6 and self.rng.random() < 0.3:
            yield from self._conversation(oid, now, self.rng.uniform(2, 90))
        return now

    def _stage_begun(self, oid: str, ref: dict[str, Any], now: date) -> Iterator[Message]:
        """The stage of ``ref`` started on ``now`` and half done by the afternoon."""
        yield self._m(
            PRODUCTION_EVENTS,
            "production.stage_started",
            oid,
            _at(now),
            ref | {"started_at": _at(now).isoformat()},
        )
        yield self._m(
            PRODUCTION_EVENTS,
            "production.stage_progressed",
            oid,
            _at(now, 15),
            ref
            | {
                "percentage": 50.0,
                "previous_percentage": 0.0,
                "reported_at": _at(now, 15).isoformat(),
            },
        )

    def _delivery(self, oid: str, facts: dict[str, Any], now: date) -> Iterator[Message]:
        """Production completed on ``now``, then the order shipped, delivered and completed."""
        yield self._m(
            PRODUCTION_EVENTS,
            "production.production_completed",
            oid,
            _at(now, 18),
            {
                "order_id": oid,
                "order_number": facts["order_number"],
                "completed_at": _at(now, 18).isoformat(),
            },
        )
        for status in ("shipped", "delivered", "completed"):
            now += timedelta(days=1 if status == "shipped" else 5)
            yield self._m(
                ORDERS_EVENTS,
                "order.status_changed",
                oid,
                _at(now),
                {
                    "order_id": oid,
                    "order_number": facts["order_number"],
                    "from_status": None,
                    "to_status": status,
                    "status": status,
                    "production_status": "completed",
                },
            )

    def _inspections(self, oid: str, facts: dict[str, Any], supplier: str, stage: int,
                     name: str, day: date) -> Iterator[Message]:  # fmt: skip
        fail_rate = 0.1 + self.skill[supplier] / 2
        for round_ in (1, 2):
            iid = f"{oid}-i{stage}-{round_}"
            base = {"order_id": oid, "order_number": facts["order_number"], "inspection_id": iid,
                    "supplier_id": supplier, "stage_number": stage}  # fmt: skip
            yield self._m(QUALITY_EVENTS, "quality.inspection_scheduled", oid, _at(day, 18), base | {
                "stage_name": name, "lot_size": facts["quantity"], "sample_size": 80, "severity": "normal",
                "plans": [], "round": round_})  # fmt: skip
            failed = round_ == 1 and self.rng.random() < fail_rate
            defects = {"critical": 0, "major": self.rng.randint(3, 6) if failed else self.rng.randint(0, 2),
                       "minor": self.rng.randint(0, 6)}  # fmt: skip
            kind = "quality.inspection_failed" if failed else "quality.inspection_passed"
            yield self._m(
                QUALITY_EVENTS,
                kind,
                oid,
                _at(day, 19),
                base | {"sample_inspected": 80, "defects_by_class": defects, "summary": kind},
            )
            if not failed:
                return

    def _conversation(self, oid: str, day: date, hours: float) -> Iterator[Message]:
        asked = _at(day, 8)
        for role, when in (("buyer", asked), ("supplier", asked + timedelta(hours=hours))):
            yield self._m(NOTIFICATIONS_OUTBOUND, "notifications.message_posted", oid, when, {
                "order_id": oid, "message_id": f"{oid}-{role}", "author_id": role, "author_role": role,
                "text": "When will sewing finish?" if role == "buyer" else "Friday."})  # fmt: skip

    def _m(self, topic: str, type_: str, oid: str, at: datetime, data: dict[str, Any]) -> Message:
        envelope = new_envelope(type_, "sample", oid, data)
        envelope = envelope.model_copy(update={"time": at})
        return Message(topic, oid.encode(), envelope.to_bytes())
