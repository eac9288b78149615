"""Keeping the analytics read model current: one reaction per event type, applied per batch.

``project`` loads the orders a batch names, applies each event to its ``OrderRecord`` in
order, and saves what changed (orders, stage facts and their rollups, inspections, replies)
in the caller's transaction. The consumer journals each event first (``analytics_journal``,
which also recognises a redelivery); a rebuild replays the journal through ``project``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics import rollups, stage_rollups, store
from looptrace_predictions.analytics.domain import OrderRecord, Reply, StageFact, StageRecord
from looptrace_predictions.analytics.writes import Writes
from looptrace_shared.events import orders as oev
from looptrace_shared.events import production as pev
from looptrace_shared.events import quality as qev
from looptrace_shared.messaging.incoming import Incoming


@dataclass
class Batch:
    """What one batch changes: the orders it touched, inspections and replies it produced."""

    orders: dict[str, OrderRecord]
    facts_before: dict[str, list[StageFact]]
    dims_before: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    inspections: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: list[tuple[Reply, str | None]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    months: rollups.Rollup = field(default_factory=rollups.supplier_months)
    counts: rollups.Rollup = field(default_factory=rollups.order_counts)
    weeks: rollups.Rollup = field(default_factory=rollups.qc_weeks)

    def take_inspections(self, rows: dict[str, dict[str, Any]]) -> None:
        """Inspections as stored: their contributions leave the rollups until saved again."""
        for row in rows.values():
            rollups.inspection_contributions(row, -1, self.months, self.weeks)
        self.inspections.update(rows)

    def order(self, order_id: str) -> OrderRecord:
        self.touched.add(order_id)
        if order_id not in self.orders:
            self.orders[order_id] = OrderRecord(order_id)
            self.facts_before[order_id] = []
        return self.orders[order_id]


Reaction = Callable[[OrderRecord, Any, datetime, Batch], None]


def _order_facts(o: OrderRecord, d: oev.OrderFacts) -> None:
    o.learn(
        order_number=d.order_number, buyer_id=d.buyer.id, category=d.product_category,
        quantity=d.quantity, target_date=d.target_date,
    )  # fmt: skip


def when_order_created(o: OrderRecord, d: oev.OrderCreated, at: datetime, _: Batch) -> None:
    _order_facts(o, d)
    o.placed_on = o.placed_on or at.date()
    o.workflow_status = o.workflow_status or d.workflow_status


def when_supplier_assigned(
    o: OrderRecord, d: oev.OrderSupplierAssigned, at: datetime, _: Batch
) -> None:
    _order_facts(o, d)
    o.assigned(d.supplier.id, at)


def when_status_changed(o: OrderRecord, d: oev.OrderStatusChanged, at: datetime, _: Batch) -> None:
    o.status_changed(d.status, d.production_status, at)


def when_stages_initialized(
    o: OrderRecord, d: pev.StagesInitialized, at: datetime, _: Batch
) -> None:
    o.learn(
        order_number=d.order_number, buyer_id=d.buyer_id, category=d.product_category,
        quantity=d.quantity, target_date=d.target_date, projected_completion=d.projected_completion,
    )  # fmt: skip
    if o.supplier_id is None or o.assigned_at is None:
        o.assigned(d.supplier_id, at)
    o.placed_on = o.placed_on or at.date()
    o.plan([StageRecord(s.stage_number, s.stage_name, s.planned_start, s.planned_end, s.qc)
            for s in d.stages])  # fmt: skip


def when_stage_started(o: OrderRecord, d: pev.StageStarted, at: datetime, _: Batch) -> None:
    o.stage_started(d.stage_number, d.started_at)


def when_stage_progressed(o: OrderRecord, d: pev.StageProgressed, at: datetime, _: Batch) -> None:
    o.reported(d.reported_at)


def when_stage_completed(o: OrderRecord, d: pev.StageCompleted, at: datetime, _: Batch) -> None:
    o.stage_completed(d.stage_number, d.completed_at)


def when_stage_reopened(o: OrderRecord, d: pev.StageReopened, at: datetime, _: Batch) -> None:
    o.stage_reopened(d.stage_number)


def when_plan_reforecast(o: OrderRecord, d: pev.PlanReforecast, at: datetime, _: Batch) -> None:
    o.learn(projected_completion=d.projected_completion, target_date=d.target_date)


def when_production_completed(
    o: OrderRecord, d: pev.ProductionCompleted, at: datetime, _: Batch
) -> None:
    o.completed_on = d.completed_at.date()


def when_inspection_scheduled(
    o: OrderRecord, d: qev.InspectionScheduled, at: datetime, b: Batch
) -> None:
    row = b.inspections.setdefault(d.inspection_id, store.new_inspection(d.inspection_id, o))
    first = d.reinspection_of is None and (d.round is None or d.round == 1)
    row.update(stage_number=d.stage_number, inline=o.is_inline(d.stage_number), first=first)
    row["supplier_id"] = d.supplier_id or row["supplier_id"]


def when_inspected(o: OrderRecord, d: qev.InspectionOutcome, at: datetime, b: Batch) -> None:
    row = b.inspections.setdefault(d.inspection_id, store.new_inspection(d.inspection_id, o))
    by_class = d.defects_by_class
    row.update(
        passed=isinstance(d, qev.InspectionPassed), decided_on=at.date(),
        units=d.sample_inspected, critical=by_class.get("critical", 0),
        major=by_class.get("major", 0), minor=by_class.get("minor", 0),
    )  # fmt: skip
    if row["stage_number"] is None and d.stage_number is not None:
        row.update(stage_number=d.stage_number, inline=o.is_inline(d.stage_number))


def when_message_posted(o: OrderRecord, d: Any, at: datetime, b: Batch) -> None:
    reply = o.message(d.author_role, at)
    if reply is not None:
        b.replies.append((reply, o.buyer_id))


REACTIONS: dict[str, Reaction] = {
    "order.created": when_order_created,
    "order.supplier_assigned": when_supplier_assigned,
    "order.status_changed": when_status_changed,
    "production.stages_initialized": when_stages_initialized,
    "production.stage_started": when_stage_started,
    "production.stage_progressed": when_stage_progressed,
    "production.stage_completed": when_stage_completed,
    "production.stage_reopened": when_stage_reopened,
    "production.plan_reforecast": when_plan_reforecast,
    "production.production_completed": when_production_completed,
    "quality.inspection_scheduled": when_inspection_scheduled,
    "quality.inspection_passed": when_inspected,
    "quality.inspection_failed": when_inspected,
    "notifications.message_posted": when_message_posted,
}


async def project(session: AsyncSession, items: list[Incoming]) -> int:
    """Apply ``items`` (events not applied before) to the read model; return how many."""
    items = [i for i in items if i.type in REACTIONS]
    if not items:
        return 0
    inspected = {i.data.inspection_id for i in items if i.type.startswith("quality.")}
    batch = await load(session, {i.subject for i in items}, inspected)
    for i in items:
        REACTIONS[i.type](batch.order(i.subject), i.data, i.envelope.time, batch)
    await save(session, batch)
    return len(items)


async def load(session: AsyncSession, order_ids: set[str], inspection_ids: set[str]) -> Batch:
    """The batch's orders and inspections (one round trip), their contributions taken out."""
    orders, inspections = await store.load_batch(session, order_ids, inspection_ids)
    facts = {oid: o.stage_facts() for oid, o in orders.items()}
    batch = Batch(orders, facts, {oid: store.inspection_dims(o) for oid, o in orders.items()})
    for o in orders.values():
        rollups.order_contributions(o, -1, batch.months, batch.counts)
    batch.take_inspections(inspections)
    return batch


async def save(session: AsyncSession, b: Batch) -> None:
    """Save what ``b`` changed: the reads it needs first, then its writes in one statement."""
    touched = [b.orders[oid] for oid in sorted(b.touched)]
    writes = Writes()
    store.save_orders(writes, touched)
    removed, added = _changed_facts(b, touched)
    await store.save_stage_facts(session, writes, removed, added)
    stage_rollups.add_to_rollups(writes, removed, added)
    rollups.fact_contributions(removed, added, b.months)
    await _redraw_inspections(session, b, touched)
    store.save_inspections(writes, list(b.inspections.values()))
    store.save_replies(writes, b.replies)
    for o in touched:
        rollups.order_contributions(o, 1, b.months, b.counts)
    for row in b.inspections.values():
        rollups.inspection_contributions(row, 1, b.months, b.weeks)
    rollups.reply_contributions(((r, b.orders[r.order_id]) for r, _ in b.replies), b.months)
    for rollup in (b.months, b.counts, b.weeks):
        rollup.flush(writes)
    await writes.run(session)


def _changed_facts(b: Batch, touched: list[OrderRecord]) -> tuple[list[StageFact], list[StageFact]]:
    """(removed, added): only the facts that changed are written and rolled up."""
    removed: list[StageFact] = []
    added: list[StageFact] = []
    for o in touched:
        before, facts = b.facts_before[o.order_id], o.stage_facts()
        if facts != before:
            old, new = set(before), set(facts)
            removed += old - new
            added += new - old
    return removed, added


async def _redraw_inspections(session: AsyncSession, b: Batch, touched: list[OrderRecord]) -> None:
    """Quality's events may come before the order's (another topic): once the order's buyer,
    category, season or plan is known, its inspections get them."""
    redrawn = {
        o.order_id: o for o in touched if store.inspection_dims(o) != b.dims_before.get(o.order_id)
    }
    if not redrawn:
        return
    stored = await store.inspections_of(session, set(redrawn), exclude=set(b.inspections))
    b.take_inspections(stored)
    for row in b.inspections.values():
        o = redrawn.get(row["order_id"])
        if o is not None:
            row.update(buyer_id=o.buyer_id, category=o.category, season=o.season,
                       supplier_id=row["supplier_id"] or o.supplier_id, inline=o.is_inline(row["stage_number"]))  # fmt: skip


Projector = Callable[[AsyncSession, list[Incoming]], Awaitable[int]]
