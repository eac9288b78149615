"""Scheduling a new plan: backwards from the ex-factory date, forwards when that is past."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from looptrace_production.calendar import Calendar
from looptrace_production.calendar_cache import remembered
from looptrace_production.domain import Plan, Stage
from looptrace_production.domain.samples import SampleMilestone
from looptrace_production.rules import UnknownCategory
from looptrace_production.templates import SampleTemplate, Template, category_key


def template_for(templates: Mapping[str, Template], category: str) -> Template:
    """The template of a product category; names ignore case, spaces, "-" and "_"."""
    try:
        return templates[category_key(category)]
    except KeyError:
        raise UnknownCategory(category, templates) from None


def plan_stages(
    template: Template,
    target_date: date,
    today: date,
    calendar: Calendar,
    buffer_days: int = 2,
    has_print: bool = True,
) -> Plan:
    """Schedule backwards from the ex-factory date less the buffer; forwards if that is past."""
    calendar = remembered(calendar)  # the plan's calendar: shared, remembering its moves
    stages = [
        Stage.from_template(stage, stage.optional and not has_print) for stage in template.stages
    ]
    plan = Plan(template.category, target_date, buffer_days, calendar, stages)
    finish = calendar.subtract_working_days(calendar.on_or_before(target_date), buffer_days)
    _schedule_backward(plan, finish)
    starts = [stage.forecast_start for stage in plan.active_stages if stage.forecast_start]
    first_start = min(starts, default=today)
    if first_start < today:
        _schedule_forward(plan, calendar.on_or_after(today))
        plan.at_risk = True
        plan.at_risk_reason = (
            f"working backwards from the ex-factory date {target_date} less {buffer_days} "
            f"buffer working days ({finish}), the first stage would start on {first_start}, "
            f"before today ({today}); scheduled forwards from today, projected completion "
            f"{plan.projected_completion}"
        )
    for stage in plan.active_stages:
        stage.baseline_start, stage.baseline_end = stage.forecast_start, stage.forecast_end
    plan.samples.milestones = tuple(_sample_milestone(plan, s) for s in template.samples)
    return plan


def _sample_milestone(plan: Plan, sample: SampleTemplate) -> SampleMilestone:
    """The sample's approval, ``lead_days`` working days before its stage's baseline start."""
    start = plan.stage(sample.before_stage).baseline_start
    planned = plan.calendar.subtract_working_days(start, sample.lead_days) if start else None
    return SampleMilestone(
        sample.kind, sample.before_stage, sample.lead_days, sample.gates, sample.required, planned
    )


def _schedule_backward(plan: Plan, finish: date) -> None:
    calendar = plan.calendar
    for stage in reversed(plan.active_stages):
        starts = [
            later.forecast_start for later in plan.dependents_of(stage) if later.forecast_start
        ]
        end = min((calendar.previous_working_day(start) for start in starts), default=finish)
        stage.forecast_end = end
        stage.forecast_start = calendar.subtract_working_days(end, stage.duration_days - 1)


def _schedule_forward(plan: Plan, first_day: date) -> None:
    calendar = plan.calendar
    for stage in plan.active_stages:
        ends = [
            before.forecast_end for before in plan.prerequisites_of(stage) if before.forecast_end
        ]
        start = max((calendar.next_working_day(end) for end in ends), default=first_day)
        stage.forecast_start = start
        stage.forecast_end = calendar.add_working_days(start, stage.duration_days - 1)
