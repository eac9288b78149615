import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from looptrace_production import rules as rules_module
from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport
from looptrace_production.events import (
    DelayReason,
    ProductionCompleted,
    StageCompleted,
    StageProgressed,
    StageStarted,
    StageStatus,
)
from looptrace_production.qc_gate import InspectionStatus
from looptrace_production.rules import (
    CompletedBeforeStarted,
    DependentStageAlreadyStarted,
    PercentageOutOfRange,
    PrerequisiteStageNotDone,
    ReportedBeforeStageStarted,
    ReportedInTheFuture,
    StageCannotGoBackwards,
    StageWasSkipped,
    TimestampWithoutTimezone,
    UnknownDelayReason,
    UnknownStage,
)
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates
from looptrace_shared.errors import RuleViolation

TEMPLATES = load_templates()
NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)


def cut_and_sew(has_print: bool = True) -> Plan:
    template = template_for(TEMPLATES, "cut-and-sew")
    return plan_stages(template, date(2025, 6, 30), NOW.date(), WorkCalendar(), has_print=has_print)


def report(
    stage: int | str, percentage: float, at: datetime = NOW, **extra: object
) -> ProgressReport:
    return ProgressReport(f"msg-{stage}-{percentage}", stage, percentage, at, **extra)  # type: ignore[arg-type]


def test_first_progress_starts_the_stage() -> None:
    plan = cut_and_sew()
    events = plan.apply_progress(report("order confirmation", 40, notes="PO signed"), NOW)
    assert [type(event) for event in events][:2] == [StageStarted, StageProgressed]
    started, progressed = events[0], events[1]
    assert isinstance(started, StageStarted) and started.first_stage
    assert started.started_at == NOW and started.planned_start == plan.stage(1).baseline_start
    assert isinstance(progressed, StageProgressed)
    assert (progressed.percentage, progressed.previous_percentage, progressed.notes) == (
        40,
        0,
        "PO signed",
    )
    stage = plan.stage(1)
    assert (stage.status, stage.percentage, stage.started_at, stage.completed_at) == (
        StageStatus.IN_PROGRESS,
        40,
        NOW,
        None,
    )
    assert plan.version == 2


def test_reaching_100_completes_and_jumping_from_0_sets_both_timestamps() -> None:
    plan = cut_and_sew()
    events = plan.apply_progress(report(1, 100), NOW)
    assert [type(event) for event in events][:3] == [StageStarted, StageProgressed, StageCompleted]
    stage = plan.stage(1)
    assert (stage.status, stage.started_at, stage.completed_at) == (StageStatus.COMPLETED, NOW, NOW)


def test_stage_completed_carries_the_template_flags() -> None:
    plan = cut_and_sew()
    for number in range(1, 9):
        events = plan.apply_progress(report(number, 100), NOW)
    completed = [event for event in events if isinstance(event, StageCompleted)]
    assert [(c.stage_number, c.stage_name, c.qc, c.milestone) for c in completed] == [
        (8, "Quality Control (Internal)", True, False)
    ]


def test_reported_at_is_stored_in_utc() -> None:
    plan = cut_and_sew()
    bangkok = datetime(2025, 3, 4, 0, 30, tzinfo=timezone(timedelta(hours=7)))
    plan.apply_progress(report(1, 10, bangkok), NOW + timedelta(hours=6))
    assert plan.stage(1).started_at == datetime(2025, 3, 3, 17, 30, tzinfo=UTC)
    assert plan.stage(1).forecast_start == date(2025, 3, 3)  # the UTC date
    assert plan.stage(1).started_at.tzinfo == UTC  # type: ignore[union-attr]


@pytest.mark.parametrize("percentage", [-1, 100.5, 250])
def test_percentage_out_of_range(percentage: float) -> None:
    with pytest.raises(PercentageOutOfRange) as caught:
        cut_and_sew().apply_progress(report(1, percentage), NOW)
    assert f"percentage {percentage}" in str(caught.value) and "0 to 100" in str(caught.value)
    assert caught.value.rule == "percentage_out_of_range"


def test_stage_cannot_go_backwards_without_correction() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 40), NOW)
    with pytest.raises(StageCannotGoBackwards) as caught:
        plan.apply_progress(report(1, 30), NOW)
    message = str(caught.value)
    assert "stage 1 (Order Confirmation) is already at 40" in message
    assert "30" in message and "correction=true" in message


def test_a_correction_may_lower_the_percentage() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 100), NOW)
    plan.apply_progress(report(1, 60, correction=True), NOW)
    stage = plan.stage(1)
    assert (stage.status, stage.percentage, stage.completed_at) == (
        StageStatus.IN_PROGRESS,
        60,
        None,
    )
    plan.apply_progress(report(1, 0, correction=True), NOW)
    assert (stage.status, stage.started_at) == (StageStatus.PENDING, None)


def test_a_correction_cannot_uncomplete_a_stage_whose_successor_started() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 100), NOW)
    plan.apply_progress(report(2, 10), NOW)
    with pytest.raises(DependentStageAlreadyStarted, match="stage 2 \\(Fabric & Trim Sourcing\\)"):
        plan.apply_progress(report(1, 90, correction=True), NOW)


def test_a_stage_cannot_start_before_its_prerequisites_are_done() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 50), NOW)
    with pytest.raises(PrerequisiteStageNotDone) as caught:
        plan.apply_progress(report(2, 10), NOW)
    assert (
        "stage 2 (Fabric & Trim Sourcing) cannot start before stage 1 (Order Confirmation)"
        in str(caught.value)
    )
    assert caught.value.rule == "prerequisite_stage_not_done"


def test_a_zero_percent_note_is_allowed_before_prerequisites_are_done() -> None:
    plan = cut_and_sew()
    events = plan.apply_progress(report(2, 0, notes="fabric booked"), NOW)
    assert [type(event) for event in events] == [StageProgressed]
    assert plan.stage(2).status is StageStatus.PENDING


def test_a_skipped_stage_passes_its_own_prerequisites_on() -> None:
    plan = cut_and_sew(has_print=False)
    for number in (1, 2, 3):
        plan.apply_progress(report(number, 100), NOW)
    with pytest.raises(PrerequisiteStageNotDone, match="before stage 4 \\(Cutting\\)"):
        plan.apply_progress(report("Sewing & Assembly", 5), NOW)
    plan.apply_progress(report(4, 100), NOW)
    assert plan.apply_progress(report("Sewing & Assembly", 5), NOW)


def test_reports_on_a_skipped_stage_are_refused() -> None:
    with pytest.raises(StageWasSkipped, match="stage 5 \\(Printing / Embroidery\\) is skipped"):
        cut_and_sew(has_print=False).apply_progress(report(5, 10), NOW)


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(UnknownStage, match="no stage 11"):
        cut_and_sew().apply_progress(report(11, 10), NOW)


def test_reports_from_the_future_are_refused_beyond_the_clock_skew() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 10, NOW + timedelta(minutes=4)), NOW)
    with pytest.raises(ReportedInTheFuture) as caught:
        plan.apply_progress(report(1, 20, NOW + timedelta(minutes=6)), NOW)
    assert "2025-03-03T12:06:00+00:00" in str(caught.value) and "0:05:00" in str(caught.value)
    plan.apply_progress(
        report(1, 20, NOW + timedelta(minutes=6)), NOW, clock_skew=timedelta(minutes=10)
    )
    assert plan.stage(1).percentage == 20


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(
        TimestampWithoutTimezone, match="reported_at 2025-03-03T12:00:00 has no time zone"
    ):
        cut_and_sew().apply_progress(report(1, 10, NOW.replace(tzinfo=None)), NOW)


def test_a_report_dated_before_the_recorded_start_is_refused() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 10), NOW)
    earlier = NOW - timedelta(hours=2)
    with pytest.raises(ReportedBeforeStageStarted) as caught:
        plan.apply_progress(report(1, 50, earlier), NOW)
    assert type(caught.value) is ReportedBeforeStageStarted
    assert "started at 2025-03-03T12:00:00+00:00" in str(caught.value)
    with pytest.raises(CompletedBeforeStarted) as completed:
        plan.apply_progress(report(1, 100, earlier), NOW)
    assert completed.value.rule == "completed_before_started"


def test_the_same_percentage_without_notes_is_a_duplicate() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 40), NOW)
    assert plan.apply_progress(report(1, 40), NOW) == []
    assert plan.version == 2
    events = plan.apply_progress(report(1, 40, photo_urls=("https://x/1.jpg",)), NOW)
    assert [type(event) for event in events] == [StageProgressed]
    assert plan.version == 3


def test_the_delay_reason_is_recorded() -> None:
    plan = cut_and_sew()
    plan.apply_progress(report(1, 40, delay_reason=DelayReason.APPROVAL_PENDING), NOW)
    assert plan.stage(1).delay_reason is DelayReason.APPROVAL_PENDING
    events = plan.apply_progress(report(1, 40, delay_reason="material_delay"), NOW)
    assert plan.stage(1).delay_reason is DelayReason.MATERIAL_DELAY
    assert [event.delay_reason for event in events] == [DelayReason.MATERIAL_DELAY]  # type: ignore[union-attr]


def test_an_unknown_delay_reason_lists_the_codes() -> None:
    with pytest.raises(UnknownDelayReason, match="'rain'; use one of: material_delay, capacity"):
        cut_and_sew().apply_progress(report(1, 40, delay_reason="rain"), NOW)


def test_every_rule_has_its_own_snake_case_name() -> None:
    rules = [
        value.rule
        for value in vars(rules_module).values()
        if isinstance(value, type)
        and issubclass(value, RuleViolation)
        and value is not RuleViolation
    ]
    assert len(rules) >= 14 and len(rules) == len(set(rules))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", rule) for rule in rules)


@pytest.mark.parametrize(
    "bad",
    [
        report(1, 101),
        report(2, 10),
        report(1, 10, NOW + timedelta(hours=1)),
        report(1, 30),
        report(3, 100),
        report(1, 60, NOW - timedelta(days=1)),
        report(5, 10),
    ],
)
def test_a_refused_report_leaves_the_plan_untouched(bad: ProgressReport) -> None:
    plan = cut_and_sew(has_print=False)
    plan.apply_progress(report(1, 40), NOW)
    before = plan.to_dict()
    with pytest.raises(RuleViolation):
        plan.apply_progress(bad, NOW)
    assert plan.to_dict() == before


def test_production_completed_when_every_required_stage_is_done() -> None:
    plan = cut_and_sew(has_print=False)
    for number in (1, 2, 3, 4, 6, 7, 8, 9):
        events = plan.apply_progress(report(number, 100), NOW)
        assert not any(isinstance(event, ProductionCompleted) for event in events)
        if plan.stage(number).qc:
            plan.record_inspection(f"i-{number}", number, InspectionStatus.PASSED, NOW)
    events = plan.apply_progress(report(10, 100), NOW)
    assert events[-1] == ProductionCompleted(NOW, date(2025, 6, 30))
