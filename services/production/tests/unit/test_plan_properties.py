"""Random valid and invalid progress sequences never break the plan's invariants."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport
from looptrace_production.events import StageStatus
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates
from looptrace_shared.errors import RuleViolation

TEMPLATES = load_templates()
START = datetime(2025, 3, 3, 8, tzinfo=UTC)

reports = st.tuples(
    st.just("report"),
    # 0: the first stage not completed yet; knitwear has 8 stages, so 9 and 10 are unknown there
    st.one_of(st.just(0), st.just(0), st.integers(1, 10)),
    st.one_of(st.sampled_from([0, 100]), st.integers(-5, 105), st.floats(0, 100)),
    st.booleans(),  # correction
    st.integers(-600, 10),  # minutes between now and reported_at (positive: in the future)
)
advances = st.tuples(  # valid-looking progress on the current stage
    st.just("report"),
    st.just(0),
    st.sampled_from([25, 50, 100, 100]),
    st.just(False),
    st.integers(-120, 0),
)
sweeps = st.tuples(st.just("sweep"), st.integers(0, 0), st.just(0), st.just(False), st.just(0))
reworks = st.tuples(
    st.just("rework"), st.sampled_from([5, 8, 9, 0]), st.just(0), st.just(False), st.just(0)
)
operations = st.lists(
    st.tuples(st.one_of(advances, advances, reports, reports, sweeps, reworks), st.integers(0, 72)),
    min_size=10,
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(
    category=st.sampled_from(["knitwear", "cut-and-sew"]),
    has_print=st.booleans(),
    saturdays=st.booleans(),
    steps=operations,
)
def test_random_progress_never_breaks_the_invariants(
    category: str, has_print: bool, saturdays: bool, steps: list[tuple[tuple[object, ...], int]]
) -> None:
    calendar = WorkCalendar.six_day_week() if saturdays else WorkCalendar()
    template = template_for(TEMPLATES, category)
    plan = plan_stages(template, date(2025, 5, 30), START.date(), calendar, has_print=has_print)
    baselines = _baselines(plan)
    now = START
    for (kind, number, percentage, correction, minutes), hours in steps:
        now += timedelta(hours=hours)
        before = plan.to_dict()
        try:
            if kind == "report":
                reported_at = now + timedelta(minutes=int(minutes))  # type: ignore[call-overload]
                stage = number or _current_stage(plan)
                report = ProgressReport("m", stage, percentage, reported_at, correction=correction)  # type: ignore[arg-type]
                events = plan.apply_progress(report, now)
                _check_report_effects(before, plan, report, events)
            elif kind == "sweep":
                if plan.mark_delayed(now):
                    event("delayed")
            else:
                plan.reopen_for_rework(number or None, now)  # type: ignore[arg-type]
                event("reworked")
        except RuleViolation as refused:
            event(f"refused: {refused.rule}")
            assert plan.to_dict() == before, "a refused change must not touch the plan"
        _check_invariants(plan)
        assert _baselines(plan) == baselines
        assert Plan.from_dict(plan.to_dict()) == plan
    event(f"stages completed: {sum(s.status is StageStatus.COMPLETED for s in plan.stages)}")


def _current_stage(plan: Plan) -> int:
    pending = [stage.number for stage in plan.active_stages if not stage.done]
    return pending[0] if pending else 1


def _baselines(plan: Plan) -> list[tuple[date | None, date | None]]:
    return [(stage.baseline_start, stage.baseline_end) for stage in plan.stages]


def _check_report_effects(
    before: dict[str, Any], plan: Plan, report: ProgressReport, events: Sequence[object]
) -> None:
    old = {stage["number"]: stage for stage in before["stages"]}
    assert plan.version == before["version"] + (1 if events else 0)
    if not report.correction:
        for stage in plan.stages:
            assert stage.percentage >= old[stage.number]["percentage"], "progress went backwards"


def _check_invariants(plan: Plan) -> None:
    for stage in plan.stages:
        assert 0 <= stage.percentage <= 100
        if stage.status is StageStatus.SKIPPED:
            assert stage.percentage == 0 and stage.started_at is None and stage.forecast_end is None
            continue
        assert (stage.status is StageStatus.COMPLETED) == (stage.percentage == 100)
        assert (stage.completed_at is not None) == (stage.status is StageStatus.COMPLETED)
        if stage.percentage > 0 or stage.completed_at:
            assert stage.started_at is not None
        if stage.started_at and stage.completed_at:
            assert stage.started_at <= stage.completed_at
        if stage.started_at or stage.percentage > 0:
            assert all(before.done for before in plan.prerequisites_of(stage)), (
                f"{stage.label} started before its prerequisites were done"
            )
        assert stage.forecast_start and stage.forecast_end
        assert stage.forecast_start <= stage.forecast_end
        if stage.started_at is None:
            for before in plan.prerequisites_of(stage):
                assert before.forecast_end and stage.forecast_start > before.forecast_end
