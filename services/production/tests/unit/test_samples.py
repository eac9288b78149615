"""The sample loop on a plan and the pre-production gate (plain domain, no I/O)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport
from looptrace_production.domain.samples import Decision, Submission
from looptrace_production.events import (
    PlanReforecast,
    SampleApproved,
    SampleKind,
    SampleRejected,
    SampleRequested,
)
from looptrace_production.plan_codec import decode_plan, encode_plan
from looptrace_production.rules import PpSampleNotApproved, SampleDueDateInPast, SampleNotAwaiting
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import TemplateFileInvalid, load_templates, parse_templates

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)
PP = SampleKind.PRE_PRODUCTION


def plan_of(category: str = "knitwear", templates: dict | None = None, days: int = 200) -> Plan:
    template = template_for(templates or load_templates(), category)
    target = NOW.date() + timedelta(days=days)
    return plan_stages(template, target, NOW.date(), WorkCalendar(), has_print=False)


def report(plan: Plan, stage: int, pct: float) -> list[object]:
    return plan.apply_progress(ProgressReport(f"m-{stage}-{pct}", stage, pct, NOW), NOW)  # type: ignore[return-value]


def submitted(plan: Plan, sample_id: str) -> None:
    plan.submit_sample(sample_id, Submission(3, ("p1",), (), "DHL", "T-1"), NOW)


def test_milestones_are_planned_backwards_from_their_stage() -> None:
    plan = plan_of("cut-and-sew")
    by_kind = {m.kind: m for m in plan.samples.milestones}
    cutting = plan.stage(4).baseline_start
    assert cutting is not None
    assert by_kind[PP].planned_date == WorkCalendar().subtract_working_days(cutting, 3)
    assert by_kind[PP].gates and not by_kind[SampleKind.FIT].gates
    assert by_kind[SampleKind.FIT].planned_date < plan.stage(3).baseline_start  # type: ignore[operator]


def test_without_a_request_the_optional_gate_lets_bulk_start() -> None:
    plan = plan_of()
    report(plan, 1, 100)
    report(plan, 2, 10)
    assert plan.stage(2).percentage == 10


def test_gate_refuses_bulk_until_the_pp_sample_is_approved_after_a_rejection() -> None:
    plan = plan_of()
    events = plan.request_sample("s1", PP, NOW.date() + timedelta(days=10), NOW)
    assert isinstance(events[0], SampleRequested) and events[0].planned_date is not None
    report(plan, 1, 100)
    with pytest.raises(
        PpSampleNotApproved, match=r"stage 2 \(Knitting\).*s1, round 1, is requested"
    ):
        report(plan, 2, 10)
    submitted(plan, "s1")
    rejected = plan.decide_sample("s1", Decision.REJECTED, "seams", NOW.date() + timedelta(14), NOW)
    assert isinstance(rejected[0], SampleRejected) and rejected[0].round == 1
    assert plan.sample("s1").current.number == 2
    with pytest.raises(PpSampleNotApproved, match="round 2, is requested") as refused:
        report(plan, 2, 10)
    assert refused.value.rule == "pp_sample_not_approved" and refused.value.status == 409
    submitted(plan, "s1")
    approved = plan.decide_sample("s1", Decision.APPROVED_WITH_COMMENTS, "ok", None, NOW)
    assert isinstance(approved[0], SampleApproved) and approved[0].gate_opened
    report(plan, 2, 10)
    assert plan.stage(2).percentage == 10
    assert plan.samples.rounds_so_far() == 2


def test_a_required_gate_holds_before_any_request() -> None:
    doc = {"categories": {"woven": {
        "stages": [{"number": 1, "name": "A", "duration_days": 2},
                   {"number": 2, "name": "B", "duration_days": 2}],
        "samples": [{"kind": "pre_production", "before_stage": 2, "lead_days": 1,
                     "gates": True, "required": True}],
    }}}  # fmt: skip
    plan = plan_of("woven", parse_templates(doc))
    report(plan, 1, 100)
    with pytest.raises(PpSampleNotApproved, match="no pre-production sample has been requested"):
        report(plan, 2, 1)


def test_a_late_pp_sample_pushes_bulk_and_reforecasts() -> None:
    plan = plan_of(days=60)
    start = plan.stage(2).forecast_start
    assert start is not None
    late_due = start + timedelta(days=20)
    events = plan.request_sample("s1", PP, late_due, NOW)
    reforecast = [e for e in events if isinstance(e, PlanReforecast)]
    assert reforecast and reforecast[0].reason == "sample_late" and reforecast[0].slip_days > 0
    assert plan.stage(2).forecast_start == WorkCalendar().next_working_day(late_due)
    assert plan.stage(3).forecast_start > plan.stage(2).forecast_end  # type: ignore[operator]


def test_steps_out_of_turn_and_past_dates_are_refused() -> None:
    plan = plan_of()
    with pytest.raises(SampleDueDateInPast):
        plan.request_sample("s1", PP, NOW.date() - timedelta(days=1), NOW)
    plan.request_sample("s1", PP, NOW.date(), NOW)
    with pytest.raises(SampleNotAwaiting, match="only a submitted sample"):
        plan.decide_sample("s1", Decision.APPROVED, None, None, NOW)
    submitted(plan, "s1")
    with pytest.raises(SampleNotAwaiting, match="only a requested sample"):
        submitted(plan, "s1")


def test_samples_survive_the_plan_codec() -> None:
    plan = plan_of()
    plan.request_sample("s1", PP, NOW.date() + timedelta(days=5), NOW)
    submitted(plan, "s1")
    plan.decide_sample("s1", Decision.REJECTED, "bad", NOW.date() + timedelta(days=9), NOW)
    back = decode_plan(encode_plan(plan))
    assert back.samples == plan.samples
    assert back.samples.days_late(NOW.date() + timedelta(days=12)) == 3


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ({"kind": "fit", "before_stage": 2, "lead_days": 1, "gates": True}, "only the pre_"),
        ({"kind": "muslin", "before_stage": 2, "lead_days": 1}, "use one of"),
        ({"kind": "fit", "before_stage": 9, "lead_days": 1}, "not a stage"),
        ({"kind": "pre_production", "before_stage": 2, "lead_days": 1, "required": True},
         "required needs gates"),
    ],
)  # fmt: skip
def test_bad_sample_templates_are_refused(sample: dict, message: str) -> None:
    doc = {"categories": {"woven": {
        "stages": [{"number": 1, "name": "A", "duration_days": 2},
                   {"number": 2, "name": "B", "duration_days": 2}],
        "samples": [sample],
    }}}  # fmt: skip
    with pytest.raises(TemplateFileInvalid, match=message):
        parse_templates(doc)


def test_a_plan_stored_before_samples_reads_without_any() -> None:
    plan = plan_of()
    data = plan.to_dict()
    data.pop("samples")
    assert Plan.from_dict(data).samples.by_id == {}
    assert date.fromisoformat(data["target_date"]) == plan.target_date


def test_the_sweep_pushes_bulk_while_the_pp_sample_stays_late() -> None:
    plan = plan_of(days=60)
    start = plan.stage(2).forecast_start
    assert start is not None
    plan.request_sample("s1", PP, NOW.date() + timedelta(days=1), NOW)
    assert plan.reforecast_samples(NOW) == [], "on time: nothing moves"
    later = datetime.combine(start + timedelta(days=3), NOW.timetz())
    events = plan.reforecast_samples(later)
    assert [e.reason for e in events if isinstance(e, PlanReforecast)] == ["sample_late"]
    assert plan.stage(2).forecast_start == WorkCalendar().next_working_day(later.date())
    assert plan.reforecast_samples(later) == [], "once per slip"


def test_a_rejection_without_reasons_or_date_is_refused() -> None:
    from looptrace_production.rules import RejectionIncomplete

    plan = plan_of()
    plan.request_sample("s1", PP, NOW.date(), NOW)
    submitted(plan, "s1")
    with pytest.raises(RejectionIncomplete, match="next_due_date"):
        plan.decide_sample("s1", Decision.REJECTED, "bad", None, NOW)
    assert plan.sample("s1").current.status == "submitted"
