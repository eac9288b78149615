"""The QC gate: nothing after an inspection stage completes, nothing ships, until it passed."""

from datetime import UTC, date, datetime, timedelta

import pytest

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport
from looptrace_production.events import ProductionCompleted, QualityGatePassed, StageCompleted
from looptrace_production.plan_codec import decode_plan, encode_plan
from looptrace_production.qc_gate import InspectionStatus
from looptrace_production.rules import QcGateClosed
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)
OPEN, PASSED, FAILED = InspectionStatus.OPEN, InspectionStatus.PASSED, InspectionStatus.FAILED


def plan_of(category: str) -> Plan:
    template = template_for(load_templates(), category)
    return plan_stages(template, date(2025, 9, 30), NOW.date(), WorkCalendar(), has_print=False)


def report(plan: Plan, stage: int, pct: float) -> list[object]:
    return plan.apply_progress(ProgressReport(f"m-{stage}-{pct}", stage, pct, NOW), NOW)  # type: ignore[return-value]


def complete(plan: Plan, *stages: int) -> None:
    for stage in stages:
        report(plan, stage, 100)


def test_knitwear_stage_8_never_completes_while_final_qc_is_scheduled() -> None:
    plan = plan_of("knitwear")
    complete(plan, 1, 2, 3, 4, 5)
    plan.record_inspection("i-1", 5, OPEN, NOW)
    report(plan, 6, 60)  # packing may go on while the inspection is open…
    with pytest.raises(QcGateClosed, match=r"stage 6 \(Packing\) cannot complete.*i-1 .* open"):
        report(plan, 6, 100)  # …but not finish
    assert plan.stage(6).percentage == 60
    assert plan.gate_blockers() == ["inspection i-1 of stage 5 (Final QC) is open"]


def test_before_quality_booked_anything_the_gate_is_closed_too() -> None:
    plan = plan_of("knitwear")
    complete(plan, 1, 2, 3, 4, 5)
    with pytest.raises(QcGateClosed, match="has not been inspected yet") as refused:
        report(plan, 6, 100)
    assert refused.value.rule == "qc_gate_closed" and refused.value.status == 409


def test_the_gate_opens_when_the_last_required_inspection_passes() -> None:
    plan = plan_of("cut-and-sew")
    complete(plan, 1, 2, 3, 4, 6, 7, 8)
    plan.record_inspection("i-8", 8, OPEN, NOW)
    assert plan.record_inspection("i-8", 8, PASSED, NOW) == []  # stage 9 is still to inspect
    complete(plan, 9)  # the final inspection stage may complete: stage 8 passed
    plan.record_inspection("i-9", 9, OPEN, NOW)
    with pytest.raises(QcGateClosed):
        report(plan, 10, 100)
    events = plan.record_inspection("i-9", 9, PASSED, NOW)
    assert events == [QualityGatePassed(("i-8", "i-9"), NOW)]
    events = report(plan, 10, 100)  # type: ignore[assignment]
    assert isinstance(events[-1], ProductionCompleted)


def test_a_failed_inspection_closes_the_gate_until_the_reinspection_passes() -> None:
    plan = plan_of("knitwear")
    complete(plan, 1, 2, 3, 4, 5)
    plan.record_inspection("i-1", 5, OPEN, NOW)
    plan.reopen_for_rework(5, NOW)
    plan.record_inspection("i-1", 5, FAILED, NOW)
    assert plan.record_inspection("i-1", 5, OPEN, NOW) == []  # a late booking fact: ignored
    assert plan.gate_blockers() == ["inspection i-1 of stage 5 (Final QC) is failed"]
    report(plan, 4, 100)
    events = report(plan, 5, 100)
    assert any(isinstance(e, StageCompleted) for e in events)
    plan.record_inspection("i-2", 5, OPEN, NOW)
    assert plan.record_inspection("i-2", 5, PASSED, NOW) == [QualityGatePassed(("i-2",), NOW)]
    complete(plan, 6, 7, 8)


def test_an_inspection_booked_on_request_holds_shipping_until_it_passes() -> None:
    plan = plan_of("knitwear")
    complete(plan, 1, 2, 3, 4, 5)
    plan.record_inspection("i-1", 5, PASSED, NOW)
    complete(plan, 6)
    plan.record_inspection("extra", None, OPEN, NOW)
    with pytest.raises(QcGateClosed, match="inspection extra is open"):
        report(plan, 7, 100)


def test_the_gate_is_stored_with_the_plan() -> None:
    plan = plan_of("cut-and-sew")
    plan.record_inspection("i-8", 8, PASSED, NOW + timedelta(hours=1))
    plan.record_inspection("i-9", 9, OPEN, NOW)
    again = decode_plan(encode_plan(plan))
    assert again.inspections == plan.inspections
    assert again.gate_blockers() == ["inspection i-9 of stage 9 (Final Inspection) is open"]
