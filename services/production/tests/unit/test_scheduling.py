from datetime import UTC, date, datetime

import pytest

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport
from looptrace_production.events import StageStatus
from looptrace_production.rules import UnknownStage
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates

TEMPLATES = load_templates()
TODAY = date(2025, 3, 3)  # a Monday


def knitwear(calendar: WorkCalendar, target: date = date(2025, 6, 30)) -> Plan:
    return plan_stages(template_for(TEMPLATES, "knitwear"), target, TODAY, calendar)


def dates(plan: Plan) -> list[tuple[date | None, date | None]]:
    return [(stage.forecast_start, stage.forecast_end) for stage in plan.stages]


def test_backward_from_the_ex_factory_date_less_the_buffer() -> None:
    plan = knitwear(WorkCalendar())
    assert not plan.at_risk and plan.at_risk_reason is None
    assert dates(plan) == [
        (date(2025, 5, 14), date(2025, 5, 20)),
        (date(2025, 5, 21), date(2025, 6, 5)),
        (date(2025, 6, 6), date(2025, 6, 13)),
        (date(2025, 6, 16), date(2025, 6, 18)),
        (date(2025, 6, 19), date(2025, 6, 20)),
        (date(2025, 6, 23), date(2025, 6, 24)),
        (date(2025, 6, 25), date(2025, 6, 25)),
        (date(2025, 6, 26), date(2025, 6, 26)),  # Monday 30th less 2 working days
    ]
    assert plan.projected_completion == date(2025, 6, 26)
    assert all(stage.status is StageStatus.PENDING for stage in plan.stages)


def test_baseline_equals_the_first_forecast() -> None:
    plan = knitwear(WorkCalendar())
    assert [(s.baseline_start, s.baseline_end) for s in plan.stages] == dates(plan)


def test_saturday_working_factory_with_a_holiday() -> None:
    calendar = WorkCalendar.six_day_week(holidays={date(2025, 6, 9)})
    plan = knitwear(calendar)
    assert dates(plan)[1] == (date(2025, 5, 27), date(2025, 6, 10))  # 12 days, skips 9 June
    assert dates(plan)[4] == (date(2025, 6, 21), date(2025, 6, 23))  # starts on a Saturday
    assert plan.projected_completion == date(2025, 6, 27)  # Sat 28 counts as buffer


def test_every_stage_starts_the_working_day_after_its_predecessor_ends() -> None:
    calendar = WorkCalendar.six_day_week(holidays={date(2025, 5, 1), date(2025, 6, 9)})
    plan = knitwear(calendar)
    for before, after in zip(plan.stages, plan.stages[1:], strict=False):
        assert before.forecast_end and after.forecast_start and after.forecast_end
        assert after.forecast_start == calendar.next_working_day(before.forecast_end)
        assert calendar.working_days_between(after.forecast_start, after.forecast_end) == (
            after.duration_days - 1
        )


def test_a_target_too_close_schedules_forwards_from_today_and_flags_the_risk() -> None:
    template = template_for(TEMPLATES, "cut and sew")
    plan = plan_stages(template, date(2025, 4, 15), TODAY, WorkCalendar(), has_print=False)
    assert plan.at_risk
    assert plan.at_risk_reason is not None
    assert (
        "2025-04-15" in plan.at_risk_reason and "before today (2025-03-03)" in plan.at_risk_reason
    )
    assert plan.stages[0].forecast_start == TODAY
    printing, sewing = plan.stage(5), plan.stage(6)
    assert printing.status is StageStatus.SKIPPED
    assert (printing.forecast_start, printing.baseline_end) == (None, None)
    assert sewing.forecast_start == date(2025, 3, 31)  # the working day after Cutting ends
    assert plan.projected_completion == date(2025, 4, 30)


def test_forward_schedule_starts_on_the_next_working_day_when_today_is_a_weekend() -> None:
    template = template_for(TEMPLATES, "knitwear")
    plan = plan_stages(template, date(2025, 3, 20), date(2025, 3, 8), WorkCalendar())
    assert plan.at_risk
    assert plan.stages[0].forecast_start == date(2025, 3, 10)


def test_the_buffer_is_counted_in_working_days() -> None:
    template = template_for(TEMPLATES, "knitwear")
    plan = plan_stages(template, date(2025, 6, 30), TODAY, WorkCalendar(), buffer_days=5)
    assert plan.projected_completion == date(2025, 6, 23)


def test_stages_initialized_event() -> None:
    template = template_for(TEMPLATES, "cut-and-sew")
    plan = plan_stages(template, date(2025, 6, 30), TODAY, WorkCalendar(), has_print=False)
    event = plan.initialized()
    assert event.projected_completion == plan.projected_completion
    assert not event.at_risk and event.target_date == date(2025, 6, 30)
    assert [stage.stage_number for stage in event.stages] == list(range(1, 11))
    skipped = event.stages[4]
    assert (skipped.status, skipped.planned_start) == (StageStatus.SKIPPED, None)
    assert [stage.stage_number for stage in event.stages if stage.qc] == [8, 9]


@pytest.mark.parametrize("reference", [6, "6", "sewing & assembly", "  Sewing   &  ASSEMBLY "])
def test_stages_are_found_by_number_or_name(reference: int | str) -> None:
    plan = plan_stages(
        template_for(TEMPLATES, "cut-and-sew"), date(2025, 6, 30), TODAY, WorkCalendar()
    )
    assert plan.stage(reference).number == 6


def test_unknown_stage_lists_the_stages_of_the_order() -> None:
    plan = knitwear(WorkCalendar())
    with pytest.raises(UnknownStage, match="no stage 'Dyeing'") as caught:
        plan.stage("Dyeing")
    assert "stage 1 (Yarn Received)" in str(caught.value)
    assert caught.value.rule == "unknown_stage"


def test_plan_round_trips_to_a_plain_dict() -> None:
    plan = knitwear(WorkCalendar.six_day_week(holidays={date(2025, 6, 9)}))
    started = datetime(2025, 5, 14, 8, tzinfo=UTC)
    plan.apply_progress(ProgressReport("m1", 1, 100, started), started)
    plan.apply_progress(ProgressReport("m2", 2, 30, started, delay_reason=None), started)
    data = plan.to_dict()
    assert data["stages"][0]["started_at"] == "2025-05-14T08:00:00+00:00"
    assert data["stages"][0]["status"] == "completed"
    restored = Plan.from_dict(data)
    assert restored == plan
    assert restored.version == 3
