"""Use cases of the quality service. The same functions serve Kafka handlers and HTTP routes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from looptrace_quality import repository as repo
from looptrace_quality.aql import SamplingError
from looptrace_quality.catalogue import UnknownDefectClass, UnknownDefectType, parse_defect_class
from looptrace_quality.config import QualitySettings
from looptrace_quality.domain import (
    ConcessionNeedsAdmin,
    ConcessionNeedsReason,
    ConcessionNotNeeded,
    Decision,
    DefectFinding,
    InspectionPlan,
    InspectionResult,
    InvalidQuantity,
    SampleTooSmall,
    decide,
    dispose,
    grant_concession,
    plan_inspection,
    record_finding,
)
from looptrace_quality.models import DefectRow, InspectionRow, OrderLotRow
from looptrace_quality.outcomes import outcome_event, scheduled_event, severity_events, summarize
from looptrace_quality.switching import InspectionDiscontinued, SupplierSeverity
from looptrace_shared.db import UnitOfWork
from looptrace_shared.envelope import Envelope, new_envelope
from looptrace_shared.errors import Conflict, NotFound, RuleViolation, WaitingFor, as_rule_violation
from looptrace_shared.events import production as pev
from looptrace_shared.events import quality as ev
from looptrace_shared.events.registry import Payload

SOURCE = "quality"
REFUSALS = (
    SamplingError, SampleTooSmall, InvalidQuantity, UnknownDefectClass, UnknownDefectType,
    InspectionDiscontinued, ConcessionNeedsReason,
)  # fmt: skip


@contextmanager
def domain_rules() -> Iterator[None]:
    """Domain refusals become rule violations (HTTP 4xx, or a dead letter)."""
    try:
        yield
    except ConcessionNotNeeded as err:
        raise as_rule_violation(err, 409) from err
    except ConcessionNeedsAdmin as err:
        raise as_rule_violation(err, 403) from err
    except REFUSALS as err:
        raise as_rule_violation(err, 422) from err


@dataclass(frozen=True)
class Stage:
    number: int
    name: str | None = None


class LotSizeUnknown(RuleViolation):
    rule = "lot_size_unknown"


@dataclass
class QualityContext:
    """One batch (or one request): the unit of work and the order lots loaded for it."""

    uow: UnitOfWork
    settings: QualitySettings
    lots: dict[str, OrderLotRow] = field(default_factory=dict)
    cause: Envelope | None = None
    actor: str = "system"

    async def preload(self, order_ids: list[str]) -> None:
        self.lots.update(await repo.load_lots(self.uow.session, order_ids))

    async def find_lot(self, order_id: str) -> OrderLotRow | None:
        if order_id not in self.lots:
            self.lots.update(await repo.load_lots(self.uow.session, [order_id]))
        return self.lots.get(order_id)

    async def lot(self, order_id: str) -> OrderLotRow:
        lot = await self.find_lot(order_id)
        if lot is None:
            raise WaitingFor(
                f"order {order_id} is not known to quality yet (no stages_initialized)"
            )
        return lot

    def emit(self, order_id: str, data: Payload) -> None:
        type_ = data.EVENT_TYPE  # type: ignore[attr-defined]
        self.uow.emit(new_envelope(type_, SOURCE, order_id, data, cause=self.cause))


# ---- order facts ----------------------------------------------------------------------


async def record_order(ctx: QualityContext, fact: pev.StagesInitialized) -> OrderLotRow:
    lot = ctx.lots.get(fact.order_id) or OrderLotRow(order_id=fact.order_id)
    if lot.order_id not in ctx.lots:
        ctx.uow.session.add(lot)
        ctx.lots[lot.order_id] = lot
    lot.order_number, lot.supplier_id = fact.order_number, fact.supplier_id
    lot.product_category = fact.product_category
    lot.qc_stages = [s.stage_number for s in fact.stages if s.qc]
    lot.lot_size = fact.quantity or lot.lot_size
    return lot


# ---- booking ----------------------------------------------------------------------------


async def supplier_severity(ctx: QualityContext, supplier_id: str) -> SupplierSeverity:
    row = await repo.supplier_state(ctx.uow.session, supplier_id)
    return SupplierSeverity.from_dict(row.state) if row else SupplierSeverity()


def resolve_plan(
    ctx: QualityContext, lot: OrderLotRow, lot_size: int, state: SupplierSeverity
) -> InspectionPlan:
    with domain_rules():
        if state.discontinued:
            raise InspectionDiscontinued()
        aqls = {**ctx.settings.default_aqls, **(lot.aqls or {})}
        return plan_inspection(lot_size, aqls, ctx.settings.inspection_level, state.severity)


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
    plan = resolve_plan(ctx, lot, lot_size, await supplier_severity(ctx, lot.supplier_id))
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
    number = stage and stage.number
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
    for event in severity_events(row, transitions):
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
