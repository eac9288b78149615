"""Use cases of the quality service. The same functions serve Kafka handlers and HTTP routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from looptrace_quality import repository as repo
from looptrace_quality.catalogue import parse_defect_class
from looptrace_quality.domain import (
    Decision,
    DefectFinding,
    InspectionPlan,
    InspectionResult,
    SampleLargerThanLot,
    decide,
    dispose,
    grant_concession,
    plan_inspection,
    record_finding,
)
from looptrace_quality.models import DefectRow, InspectionRow, OrderLotRow
from looptrace_quality.services.aql_overrides import effective_aqls
from looptrace_quality.services.context import QualityContext, domain_rules
from looptrace_quality.services.outcomes import (
    outcome_event,
    scheduled_event,
    severity_events,
    summarize,
)
from looptrace_quality.switching import InspectionDiscontinued, SupplierSeverity
from looptrace_shared.errors import Conflict, NotFound, RuleViolation, WaitingFor
from looptrace_shared.events import production as pev
from looptrace_shared.events import quality as ev

__all__ = ["QualityContext", "domain_rules"]  # re-exported: handlers and routes build contexts


@dataclass(frozen=True)
class Stage:
    number: int
    name: str | None = None


class LotSizeUnknown(RuleViolation):
    rule = "lot_size_unknown"


# ---- order facts ----------------------------------------------------------------------


async def record_order(ctx: QualityContext, fact: pev.StagesInitialized) -> OrderLotRow:
    lot = ctx.lots.get(fact.order_id) or OrderLotRow(order_id=fact.order_id)
    if lot.order_id not in ctx.lots:
        ctx.uow.session.add(lot)
        ctx.lots[lot.order_id] = lot
    lot.order_number, lot.supplier_id = fact.order_number, fact.supplier_id
    lot.buyer_id = fact.buyer_id or lot.buyer_id
    lot.product_category = fact.product_category
    lot.qc_stages = [s.stage_number for s in fact.stages if s.qc]
    lot.lot_size = fact.quantity or lot.lot_size
    return lot


async def move_to_supplier(ctx: QualityContext, fact: pev.SupplierReassigned) -> None:
    """The order changed supplier: the lot and the inspections not yet done go with it (their
    results, and the switching rules they feed, count for the new supplier); decided
    inspections stay attributed to the supplier whose goods were inspected."""
    lot = await ctx.lot(fact.order_id)
    lot.supplier_id = fact.supplier_id
    for row in await repo.open_inspections(ctx.uow.session, lot.order_id):
        row.supplier_id = fact.supplier_id


# ---- booking ----------------------------------------------------------------------------


async def supplier_severity(ctx: QualityContext, supplier_id: str) -> SupplierSeverity:
    row = await repo.supplier_state(ctx.uow.session, supplier_id)
    return SupplierSeverity.from_dict(row.state) if row else SupplierSeverity()


async def resolve_plan(
    ctx: QualityContext, lot: OrderLotRow, lot_size: int, state: SupplierSeverity
) -> InspectionPlan:
    """The plan at the supplier's severity, with the order's, buyer's or default AQLs."""
    with domain_rules():
        if state.discontinued:
            raise InspectionDiscontinued()
        chosen = await effective_aqls(ctx, lot)
        plan = plan_inspection(lot_size, chosen.aqls, chosen.level, state.severity)
    return replace(plan, sources=chosen.sources)


def required_lot_size(lot: OrderLotRow) -> int:
    if not lot.lot_size:
        raise LotSizeUnknown(
            f"the lot size of order {lot.order_number} is unknown: production.stages_initialized "
            "carried no quantity; book the inspection with POST /v1/inspections and a lot_size"
        )
    return lot.lot_size


def reinspected(previous: InspectionRow | None) -> str | None:
    return previous.id if previous and previous.disposition == "rejected" else None


async def book(
    ctx: QualityContext, lot: OrderLotRow, stage: Stage | None, previous: InspectionRow | None
) -> InspectionRow:
    """Book the next inspection of the lot's stage (a re-inspection when ``previous`` was rejected)."""
    lot_size = required_lot_size(lot)
    plan = await resolve_plan(ctx, lot, lot_size, await supplier_severity(ctx, lot.supplier_id))
    row = InspectionRow(
        id=str(uuid.uuid4()), order_id=lot.order_id, supplier_id=lot.supplier_id,
        stage_number=stage and stage.number, stage_name=stage and stage.name,
        round=previous.round + 1 if previous else 1, reinspection_of=reinspected(previous),
        lot_size=lot_size, severity=plan.severity.value, plan=plan.to_dict(), status="scheduled",
        photo_urls=[], scheduled_at=datetime.now(UTC),
    )  # fmt: skip
    ctx.uow.session.add(row)
    ctx.emit(lot.order_id, scheduled_event(lot, row, plan))
    return row


async def schedule_for_stage(ctx: QualityContext, fact: pev.StageCompleted) -> InspectionRow | None:
    """A QC stage completed: book its inspection, or its re-inspection after a rejection."""
    if not fact.qc:
        return None
    lot = await ctx.lot(fact.order_id)
    previous = await repo.latest_for_stage(ctx.uow.session, lot.order_id, fact.stage_number)
    if previous is not None and previous.disposition != "rejected":
        return None  # already booked (or passed) for this round
    return await book(ctx, lot, Stage(fact.stage_number, fact.stage_name), previous)


async def book_on_request(
    ctx: QualityContext, order_id: str, lot_size: int | None, stage: Stage | None
) -> InspectionRow:
    lot = await ctx.find_lot(order_id)
    if lot is None:
        raise NotFound(
            f"order {order_id} is not known to quality yet (production has not planned it)"
        )
    number = stage.number if stage else None
    previous = await repo.latest_for_stage(ctx.uow.session, order_id, number)
    if previous is not None and previous.status == "scheduled":
        raise Conflict(
            f"inspection {previous.id} of this order and stage is still open; submit its result first"
        )
    lot.lot_size = lot_size or lot.lot_size
    return await book(ctx, lot, stage, previous)


# ---- results ----------------------------------------------------------------------------


async def target_inspection(
    ctx: QualityContext, cmd: ev.InspectionResultSubmitted
) -> InspectionRow:
    session = ctx.uow.session
    if cmd.inspection_id is None:
        found = await repo.open_inspection(session, cmd.order_id)
        if found is None:
            raise WaitingFor(f"order {cmd.order_id} has no open inspection yet")
        return found
    found = await repo.inspection(session, cmd.inspection_id)
    if found is None or found.order_id != cmd.order_id:
        raise NotFound(f"no inspection {cmd.inspection_id} for order {cmd.order_id}")
    return found


def finding(d: ev.DefectCount) -> DefectFinding:
    if d.defect_type:
        return record_finding(d.defect_type, d.count, d.defect_class)
    return DefectFinding(parse_defect_class(d.defect_class), d.count)


def decide_result(row: InspectionRow, cmd: ev.InspectionResultSubmitted) -> Decision:
    if row.status != "scheduled":
        raise Conflict(
            f"inspection {row.id} was already decided ({row.disposition}); a result is accepted "
            "once; a rejected lot gets a new inspection when its QC stage completes again"
        )
    with domain_rules():
        if cmd.sample_inspected > row.lot_size:
            raise SampleLargerThanLot(cmd.sample_inspected, row.lot_size)
        result = InspectionResult(cmd.sample_inspected, tuple(finding(d) for d in cmd.defects))
        return decide(InspectionPlan.from_dict(row.plan), result)


async def submit_result(ctx: QualityContext, cmd: ev.InspectionResultSubmitted) -> InspectionRow:
    row = await target_inspection(ctx, cmd)
    decision = decide_result(row, cmd)  # validates before anything is written
    lot = await ctx.lot(row.order_id)
    row.status, row.disposition = "decided", dispose(decision).disposition.value
    row.sample_inspected, row.dhu, row.summary = (
        cmd.sample_inspected,
        decision.dhu,
        summarize(decision),
    )
    row.defects_by_class = {v.defect_class.value: v.found for v in decision.verdicts}
    row.inspector, row.notes, row.photo_urls = cmd.inspector, cmd.notes, list(cmd.photo_urls)
    row.decided_at = cmd.inspected_at or datetime.now(UTC)
    for d in cmd.defects:
        ctx.uow.session.add(
            DefectRow(
                inspection_id=row.id,
                defect_class=d.defect_class.lower(),
                defect_type=d.defect_type,
                count=d.count,
            )
        )
    ctx.emit(row.order_id, outcome_event(lot, row))
    if row.round == 1:  # the switching rules count lots on original inspection only
        await record_lot_outcome(ctx, row, decision)
    return row


async def record_lot_outcome(ctx: QualityContext, row: InspectionRow, decision: Decision) -> None:
    stored = await repo.supplier_state(ctx.uow.session, row.supplier_id)
    state = SupplierSeverity.from_dict(stored.state) if stored else SupplierSeverity()
    if state.discontinued:
        return  # lots booked before discontinuation do not move the state
    transitions = state.record(decision.accepted, reinstate_normal=decision.reinstate_normal)
    await repo.save_supplier_state(ctx.uow.session, row.supplier_id, state.to_dict(), stored)
    for event in severity_events(row.order_id, row.supplier_id, transitions):
        ctx.emit(row.order_id, event)


async def concede(ctx: QualityContext, inspection_id: str, reason: str, role: str) -> InspectionRow:
    row = await repo.inspection(ctx.uow.session, inspection_id)
    if row is None:
        raise NotFound(f"no inspection {inspection_id}")
    if row.status != "decided" or row.disposition == "accepted_with_concession":
        raise Conflict(
            f"inspection {row.id} is {row.disposition or 'not decided yet'}; "
            "a concession applies to a rejected lot only"
        )
    findings = tuple(
        DefectFinding(parse_defect_class(c), n) for c, n in (row.defects_by_class or {}).items()
    )
    decision = decide(
        InspectionPlan.from_dict(row.plan), InspectionResult(row.sample_inspected or 0, findings)
    )
    with domain_rules():
        record = grant_concession(
            decision, reason=reason, approved_by=ctx.actor, approver_role=role
        )
    row.disposition, row.concession_reason, row.concession_by = (
        record.disposition.value,
        record.reason,
        ctx.actor,
    )
    ctx.emit(row.order_id, outcome_event(await ctx.lot(row.order_id), row))
    return row
