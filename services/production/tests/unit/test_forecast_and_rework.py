from datetime import UTC, date, datetime, time

import pytest

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport
from looptrace_production.events import (
    DelayReason,
    PlanReforecast,
    StageDelayed,
    StageReopened,
    StageStatus,
)
from looptrace_production.qc_gate import InspectionStatus
from looptrace_production.rules import NoStageToRework, NotAQualityStage, PrerequisiteStageNotDone
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates

PASSED = InspectionStatus.PASSED

TEMPLATES = load_templates()
TODAY = date(2025, 3, 3)
# Stage 1 (Order Confirmation) is planned 22–23 April, stage 2 from 24 April; packaging ends 26 June.


def cut_and_sew() -> Plan:
    template = template_for(TEMPLATES, "cut-and-sew")
    return plan_stages(template, date(2025, 6, 30), TODAY, WorkCalendar())


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def progress(plan: Plan, stage: int, percentage: float, when: datetime) -> list[object]:
    return list(plan.apply_progress(ProgressReport("m", stage, percentage, when), when))


def complete_on_forecast(plan: Plan, *numbers: int) -> None:
    for number in numbers:
        stage = plan.stage(number)
        assert stage.forecast_start and stage.forecast_end
        progress(plan, number, 10, at(stage.forecast_start))
        progress(plan, number, 100, at(stage.forecast_end))
        if stage.qc:  # quality passed it: the QC gate lets the next stages complete
            plan.record_inspection(f"i-{number}", number, PASSED, at(stage.forecast_end))


def forecasts(plan: Plan) -> list[tuple[date | None, date | None]]:
    return [(stage.forecast_start, stage.forecast_end) for stage in plan.stages]


def shifted(plan: Plan, rows: list[tuple[date | None, date | None]], days: int) -> list[object]:
    calendar = plan.calendar
    return [
        (calendar.add_working_days(start, days), calendar.add_working_days(end, days))
        if start and end
        else (start, end)
        for start, end in rows
    ]


def reforecasts(events: list[object]) -> list[PlanReforecast]:
    return [event for event in events if isinstance(event, PlanReforecast)]


def test_a_late_start_shifts_every_later_stage_by_the_slip() -> None:
    plan = cut_and_sew()
    planned = forecasts(plan)
    events = progress(plan, 1, 10, at(date(2025, 4, 25)))  # 3 working days late
    assert forecasts(plan)[1:] == shifted(plan, planned[1:], 3)
    assert plan.stage(1).forecast_end == date(2025, 4, 28)
    assert reforecasts(events) == [
        PlanReforecast(
            projected_completion=date(2025, 7, 1),
            previous_projected_completion=date(2025, 6, 26),
            slip_days=3,
            reason="stage_started_late",
            target_date=date(2025, 6, 30),
            stage_number=1,
            stage_name="Order Confirmation",
        )
    ]
    assert [(s.baseline_start, s.baseline_end) for s in plan.stages] == planned


def test_a_late_completion_shifts_every_later_stage_by_the_slip() -> None:
    plan = cut_and_sew()
    planned = forecasts(plan)
    progress(plan, 1, 50, at(date(2025, 4, 22)))
    events = progress(plan, 1, 100, at(date(2025, 4, 25)))  # 2 working days after 23 April
    assert forecasts(plan)[1:] == shifted(plan, planned[1:], 2)
    [reforecast] = reforecasts(events)
    assert (reforecast.slip_days, reforecast.reason) == (2, "stage_completed_late")
    assert reforecast.projected_completion == date(2025, 6, 30)


def test_an_on_time_start_does_not_reforecast() -> None:
    plan = cut_and_sew()
    assert reforecasts(progress(plan, 1, 10, at(date(2025, 4, 22)))) == []


def test_an_early_finish_keeps_later_forecasts() -> None:
    plan = cut_and_sew()
    planned = forecasts(plan)
    progress(plan, 1, 10, at(date(2025, 4, 18)))
    events = progress(plan, 1, 100, at(date(2025, 4, 18), hour=16))
    assert plan.stage(1).forecast_end == date(2025, 4, 18)
    assert forecasts(plan)[1:] == planned[1:]
    assert reforecasts(events) == []


def test_the_sweep_emits_once_per_missed_forecast_end() -> None:
    plan = cut_and_sew()
    version = plan.version
    [delayed] = plan.mark_delayed(at(date(2025, 4, 24)))
    assert delayed == StageDelayed(1, "Order Confirmation", 1, date(2025, 4, 23), None)
    assert plan.stage(1).status is StageStatus.DELAYED and plan.version == version + 1
    assert plan.mark_delayed(at(date(2025, 4, 25))) == []
    assert plan.version == version + 1
    progress(plan, 1, 10, at(date(2025, 4, 24)))
    assert plan.stage(1).status is StageStatus.IN_PROGRESS
    assert plan.stage(1).forecast_end == date(2025, 4, 25)
    [again] = plan.mark_delayed(at(date(2025, 4, 28)))
    assert (again.stage_number, again.forecast_end, again.days_late) == (1, date(2025, 4, 25), 3)


def test_a_delayed_stage_pushed_back_by_reforecast_is_no_longer_late() -> None:
    plan = cut_and_sew()
    first = plan.mark_delayed(at(date(2025, 5, 9)))
    assert [event.stage_number for event in first] == [1, 2]
    progress(plan, 1, 100, at(date(2025, 5, 9)))
    assert plan.stage(2).forecast_end == date(2025, 5, 23)
    assert plan.mark_delayed(at(date(2025, 5, 9), hour=18)) == []
    assert plan.stage(2).status is StageStatus.PENDING
    [again] = plan.mark_delayed(at(date(2025, 5, 26)))
    assert (again.stage_number, again.forecast_end) == (2, date(2025, 5, 23))


def test_the_sweep_reports_the_recorded_delay_reason() -> None:
    plan = cut_and_sew()
    when = at(date(2025, 4, 22))
    plan.apply_progress(ProgressReport("m", 1, 10, when, delay_reason=DelayReason.CAPACITY), when)
    [delayed] = plan.mark_delayed(at(date(2025, 4, 30)))
    assert delayed.reason is DelayReason.CAPACITY


def test_a_failed_internal_qc_reopens_washing_and_finishing() -> None:
    plan = cut_and_sew()
    complete_on_forecast(plan, *range(1, 9))
    version = plan.version
    events = plan.reopen_for_rework(8, at(date(2025, 6, 23), hour=9))
    assert [(e.stage_number, e.reason) for e in events if isinstance(e, StageReopened)] == [
        (7, DelayReason.QUALITY_REWORK),
        (8, DelayReason.QUALITY_REWORK),
    ]
    washing, internal_qc = plan.stage(7), plan.stage(8)
    assert (washing.status, washing.percentage, washing.completed_at) == (
        StageStatus.IN_PROGRESS,
        0,
        None,
    )
    assert washing.started_at == at(date(2025, 6, 23), hour=9)  # the rework restarts it
    assert (washing.forecast_start, washing.forecast_end) == (date(2025, 6, 23), date(2025, 6, 25))
    assert (internal_qc.status, internal_qc.started_at, internal_qc.completed_at) == (
        StageStatus.PENDING,
        None,
        None,
    )
    assert plan.stage(6).status is StageStatus.COMPLETED
    assert plan.stage(10).forecast_end == date(2025, 7, 3)
    [reforecast] = reforecasts(list(events))
    assert (reforecast.reason, reforecast.slip_days, reforecast.stage_number) == (
        "quality_rework",
        5,
        8,
    )
    assert plan.version == version + 1
    with pytest.raises(PrerequisiteStageNotDone):
        progress(plan, 8, 10, at(date(2025, 6, 24)))
    progress(plan, 7, 100, at(date(2025, 6, 25)))
    assert plan.stage(7).status is StageStatus.COMPLETED


def test_a_failed_final_inspection_also_resets_the_internal_qc_in_between() -> None:
    plan = cut_and_sew()
    complete_on_forecast(plan, *range(1, 10))
    events = plan.reopen_for_rework(None, at(date(2025, 6, 25)))
    assert [e.stage_number for e in events if isinstance(e, StageReopened)] == [7, 8, 9]
    assert [plan.stage(n).status for n in (7, 8, 9)] == [
        StageStatus.IN_PROGRESS,
        StageStatus.PENDING,
        StageStatus.PENDING,
    ]


def test_knitwear_final_qc_reopens_washing() -> None:
    plan = plan_stages(
        template_for(TEMPLATES, "knitwear"), date(2025, 6, 30), TODAY, WorkCalendar()
    )
    complete_on_forecast(plan, *range(1, 6))
    plan.reopen_for_rework(None, at(date(2025, 6, 23)))
    assert plan.stage("washing & finishing").status is StageStatus.IN_PROGRESS


def test_rework_refuses_a_stage_that_is_not_qc() -> None:
    with pytest.raises(NotAQualityStage, match="stage 6 \\(Sewing & Assembly\\) is not a QC stage"):
        cut_and_sew().reopen_for_rework(6, at(TODAY))


def test_rework_needs_a_started_production_stage() -> None:
    plan = cut_and_sew()
    before = plan.to_dict()
    with pytest.raises(NoStageToRework, match="stage 7 \\(Washing & Finishing\\) has not started"):
        plan.reopen_for_rework(8, at(TODAY))
    with pytest.raises(NoStageToRework, match="no QC stage of this order has started"):
        plan.reopen_for_rework(None, at(TODAY))
    assert plan.to_dict() == before
