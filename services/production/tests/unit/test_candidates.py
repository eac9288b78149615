"""Ranking candidate suppliers: feasibility, utilisation and the reasons in words."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import capacity as cap
from looptrace_production.domain.candidates import (
    Ask,
    Candidate,
    Scorecard,
    judge,
    ranked,
    week_loads,
)
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates

TEMPLATES = load_templates()
TODAY = date(2025, 3, 3)
TARGET = date(2025, 6, 30)
FOREVER = [(date(2025, 1, 1), None, 300)]


def candidate(
    supplier: str,
    planned: float = 0.0,
    capacity: list[tuple[date, date | None, int]] | None = None,
    target: date = TARGET,
    score: Scorecard = Scorecard(),
    moq: int = 1,
    lead: int = 30,
    expired: tuple[str, ...] = (),
    ask_certs: tuple[str, ...] = (),
    quantity: int = 500,
) -> Candidate:
    calendar = WorkCalendar()
    plan = plan_stages(template_for(TEMPLATES, "knitwear"), target, TODAY, calendar)
    loading = cap.Loading.of("knitwear", quantity, calendar, plan.stages)
    added = loading.load(loading.signature(supplier, plan.stages))
    existing = {k: planned for k in added if k[2] == "category:knitwear"}
    caps = {"category:knitwear": FOREVER if capacity is None else capacity}
    c = Candidate(supplier, supplier.upper(), plan, week_loads(added, existing, caps), score)
    ask = Ask("knitwear", quantity, target, TODAY, ask_certs)
    days = calendar.working_days_between(TODAY, target)
    return judge(c, ask, moq, lead, list(expired), days)


def test_a_free_supplier_is_feasible_and_says_its_peak() -> None:
    c = candidate("a")
    assert c.feasible
    assert c.peak_pct is not None and 0 < c.peak_pct <= 100
    assert any(f"peak utilisation with this order {c.peak_pct} %" == r for r in c.reasons)
    assert "no finished orders yet: no on-time record" in c.reasons


def test_an_overload_is_a_reason_naming_the_week_and_the_percentage() -> None:
    c = candidate("b", planned=250)
    assert not c.feasible
    over = [w for w in c.weeks if w.overloaded]
    assert over
    for w in over:
        assert any(str(w.week) in r and f"{w.utilisation_pct} %" in r for r in c.problems)


def test_moq_lead_time_certification_and_a_late_target_are_named() -> None:
    c = candidate("c", moq=1000, lead=200, expired=("GOTS",), ask_certs=("GOTS",),
                  target=date(2025, 3, 20))  # fmt: skip
    text = " | ".join(c.problems)
    assert "below its minimum order of 1000" in text
    assert "standard lead time is 200 working days" in text
    assert "GOTS certification has expired" in text
    assert "cannot meet 2025-03-20" in text


def test_unknown_capacity_is_said_not_judged() -> None:
    c = candidate("d", capacity=[])
    assert c.feasible and c.peak_pct is None
    assert any(r.startswith("no capacity reported for category:knitwear") for r in c.reasons)


def test_feasible_first_then_lower_peak_then_better_record() -> None:
    busy = candidate("busy", planned=250)
    half = candidate("half", planned=100)
    free_poor = candidate("free-poor", score=Scorecard(10, 5))
    free_good = candidate("free-good", score=Scorecard(10, 9))
    order = [c.supplier_id for c in ranked([busy, half, free_poor, free_good])]
    assert order == ["free-good", "free-poor", "half", "busy"]
    assert "on time in 90.0 % of 10 finished orders" in free_good.reasons


@given(st.lists(st.tuples(st.floats(0, 400), st.integers(0, 10)), min_size=1, max_size=6))
def test_ranking_never_puts_an_infeasible_one_before_a_feasible_one(specs) -> None:  # type: ignore[no-untyped-def]
    cands = [
        candidate(f"s{i}", planned=p, score=Scorecard(10, on_time))
        for i, (p, on_time) in enumerate(specs)
    ]
    order = ranked(cands)
    flags = [c.feasible for c in order]
    assert flags == sorted(flags, reverse=True)
    feasible = [c.peak_pct for c in order if c.feasible]
    assert feasible == sorted(feasible)  # type: ignore[type-var]
