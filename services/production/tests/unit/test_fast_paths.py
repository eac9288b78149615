"""The hot path's shortcuts give exactly what the plain code gives.

- A plan re-forecasts only downstream of the stage that moved, or not at all when no date
  moved; a plan that always re-forecasts every stage must end up identical, and every plan
  stays settled (a full re-forecast pass changes nothing), from its first report on.
- ``plan_codec`` stores every field of the plan and its stages (a table of stage rows) and
  reads it back; it also reads plans stored the earlier way, as ``Plan.to_dict()``.
"""

import json
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport
from looptrace_production.events import DelayReason
from looptrace_production.plan_codec import decode_plan, encode_plan
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates
from looptrace_shared.errors import RuleViolation

TEMPLATES = load_templates()
START = datetime(2025, 3, 3, 8, tzinfo=UTC)

steps = st.lists(
    st.tuples(
        st.sampled_from(["report", "report", "report", "correct", "sweep", "rework"]),
        st.integers(0, 10),  # stage (0: the first one not done)
        st.sampled_from([0, 10, 25, 50, 75, 100, 100]),
        st.integers(-2000, 5),  # minutes between now and reported_at
        st.integers(0, 200),  # hours to the next step
    ),
    min_size=5,
    max_size=60,
)


def _plan(category: str, has_print: bool, saturdays: bool, target: date) -> Plan:
    calendar = WorkCalendar.six_day_week() if saturdays else WorkCalendar()
    template = template_for(TEMPLATES, category)
    return plan_stages(template, target, START.date(), calendar, has_print=has_print)


def _apply(plan: Plan, step: tuple[str, int, int, int, int], now: datetime) -> object:
    kind, number, percentage, minutes, _ = step
    try:
        if kind == "sweep":
            return plan.mark_delayed(now)
        if kind == "rework":
            return plan.reopen_for_rework(None, now)
        pending = [s.number for s in plan.active_stages if not s.done]
        stage = number or (pending[0] if pending else 1)
        at = now + timedelta(minutes=minutes)
        report = ProgressReport("m", stage, percentage, at, correction=kind == "correct")
        return plan.apply_progress(report, now)
    except RuleViolation as refused:
        return refused.rule


@settings(max_examples=200, deadline=None)
@given(
    category=st.sampled_from(["knitwear", "cut-and-sew"]),
    has_print=st.booleans(),
    saturdays=st.booleans(),
    days=st.integers(20, 200),
    script=steps,
)
def test_shortcut_reforecast_equals_the_full_reforecast(
    category: str, has_print: bool, saturdays: bool, days: int, script: list
) -> None:
    target = START.date() + timedelta(days=days)
    fast, full = (_plan(category, has_print, saturdays, target) for _ in range(2))
    full._push_downstream_of = lambda _moved: full.settle()  # type: ignore[method-assign]
    _assert_settled(fast)
    now = START
    for step in script:
        now += timedelta(hours=step[4])
        assert _apply(fast, step, now) == _apply(full, step, now)
        assert fast.to_dict() == full.to_dict()
        _assert_settled(fast)


def _assert_settled(plan: Plan) -> None:
    again = decode_plan(encode_plan(plan))
    again.settle()
    assert again == plan


@settings(max_examples=50, deadline=None)
@given(category=st.sampled_from(["knitwear", "cut-and-sew"]), script=steps)
def test_stored_plans_are_read_back_the_same(category: str, script: list) -> None:
    plan = _plan(category, True, False, START.date() + timedelta(days=90))
    plan.stages[0].delay_reason = DelayReason.CAPACITY
    now = START
    for step in script:
        now += timedelta(hours=step[4])
        _apply(plan, step, now)
        stored = json.loads(encode_plan(plan))
        names, template_names = stored.pop("stage_fields"), stored.pop("template_fields")
        rows = [
            dict(zip([*template_names, *names], [*row[0], *row[1:]], strict=True))
            for row in stored["stages"]
        ]
        assert {**stored, "stages": rows} == json.loads(json.dumps(plan.to_dict()))
        assert decode_plan(encode_plan(plan)) == plan
        assert decode_plan(json.dumps(plan.to_dict())) == plan  # the first stored form
        flat = {  # the second: every field of a stage in one row
            **plan.to_dict(stages=False),
            "stage_fields": [*template_names, *names],
            "stages": [[*row[0], *row[1:]] for row in stored["stages"]],
        }
        assert decode_plan(json.dumps(flat)) == plan
