"""What quality tells the others: the published facts of inspections and supplier severity."""

from __future__ import annotations

from looptrace_quality.domain import Decision, InspectionPlan
from looptrace_quality.models import InspectionRow, OrderLotRow
from looptrace_quality.switching import SeverityTransition, TransitionKind
from looptrace_shared.events import quality as ev


def scheduled_event(
    lot: OrderLotRow, row: InspectionRow, plan: InspectionPlan
) -> ev.InspectionScheduled:
    plans = [
        ev.ClassPlan(
            defect_class=c.defect_class.value, aql=c.aql, code_letter=c.code_letter,
            sample_size=c.sample_size, accept=c.accept, reject=c.reject,
        )
        for c in plan.classes
    ]  # fmt: skip
    return ev.InspectionScheduled(
        order_id=lot.order_id, order_number=lot.order_number, inspection_id=row.id,
        supplier_id=lot.supplier_id, stage_number=row.stage_number, stage_name=row.stage_name,
        lot_size=plan.lot_size, sample_size=plan.sample_size, severity=plan.severity.value,
        plans=plans, round=row.round, reinspection_of=row.reinspection_of,
    )  # fmt: skip


def summarize(decision: Decision) -> str:
    """In words, e.g. 'Lot rejected: major 5 found (Ac 3, Re 4); critical 0 (Ac 0, Re 1); ...'."""
    classes = "; ".join(
        f"{v.defect_class.value} {v.found} found (Ac {v.accept}, Re {v.reject})"
        for v in decision.verdicts
    )
    return (
        f"Lot {decision.outcome}: {classes}; {decision.sample_inspected} units inspected, "
        f"DHU {decision.dhu}"
    )


def inspection_kind(lot: OrderLotRow, row: InspectionRow) -> str:
    """final: the plan's last QC stage; inline: an earlier one; on_request: no stage."""
    if row.stage_number is None:
        return "on_request"
    return "final" if row.stage_number >= max(lot.qc_stages or [0]) else "inline"


def outcome_event(lot: OrderLotRow, row: InspectionRow) -> ev.InspectionOutcome:
    kind = ev.InspectionFailed if row.disposition == "rejected" else ev.InspectionPassed
    summary = row.summary or ""
    if row.disposition == "accepted_with_concession":
        summary = (
            f"Accepted with concession by {row.concession_by}: {row.concession_reason}. {summary}"
        )
    return kind(
        order_id=lot.order_id, order_number=lot.order_number, inspection_id=row.id,
        supplier_id=row.supplier_id, stage_number=row.stage_number, stage_name=row.stage_name,
        inspection_kind=inspection_kind(lot, row), lot_size=row.lot_size, round=row.round,
        sample_inspected=row.sample_inspected or 0, defects_by_class=row.defects_by_class or {},
        summary=summary, disposition=row.disposition,
    )  # fmt: skip


def severity_events(
    order_id: str,
    supplier_id: str,
    transitions: list[SeverityTransition],
    reason: str | None = None,
) -> list[ev.SupplierSeverityChanged]:
    """One event per switch, keyed by the order whose lot (or resumption) caused it."""
    return [
        ev.SupplierSeverityChanged(
            order_id=order_id,
            supplier_id=supplier_id,
            from_severity=t.from_severity.value,
            to_severity=t.to_severity.value,
            discontinued=t.kind is TransitionKind.DISCONTINUED,
            reason=reason or t.reason,
        )  # fmt: skip
        for t in transitions
    ]
