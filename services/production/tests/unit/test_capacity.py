"""Planned load: stages spread over working days, per ISO week and bucket (domain.capacity)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from looptrace_production import utilisation
from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan, ProgressReport, SupplierOrder
from looptrace_production.domain import capacity as cap
from looptrace_production.domain.supplier_order import Closure
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates

TEMPLATES = load_templates()
TODAY = date(2025, 3, 3)  # a Monday


def knitwear(calendar: WorkCalendar, quantity: int = 1200) -> tuple[Plan, cap.Load]:
    plan = plan_stages(template_for(TEMPLATES, "knitwear"), date(2025, 6, 30), TODAY, calendar)
    loading = cap.Loading.of("knitwear", quantity, calendar, plan.stages)
    return plan, loading.load(loading.signature("s-1", plan.stages))


def test_a_stage_is_spread_over_its_working_days_per_week() -> None:
    # Knitting runs Wed 21 May - Thu 5 June 2025: 3 + 5 + 4 working days
    weeks = cap.spread(1200, date(2025, 5, 21), date(2025, 6, 5), WorkCalendar())
    assert weeks == {date(2025, 5, 19): 300.0, date(2025, 5, 26): 500.0, date(2025, 6, 2): 400.0}


def test_holidays_take_no_share_and_partial_weeks_get_their_days() -> None:
    holiday = WorkCalendar(holidays=frozenset({date(2025, 5, 26), date(2025, 5, 27)}))
    weeks = cap.spread(1000, date(2025, 5, 21), date(2025, 6, 5), holiday)
    assert weeks == {date(2025, 5, 19): 300.0, date(2025, 5, 26): 300.0, date(2025, 6, 2): 400.0}


def test_a_stage_without_a_working_day_puts_its_quantity_on_its_last_day() -> None:
    assert cap.spread(70, date(2025, 5, 24), date(2025, 5, 25), WorkCalendar()) == {
        date(2025, 5, 19): 70.0
    }


def test_knitwear_loads_its_category_through_knitting_and_its_processes() -> None:
    _, load = knitwear(WorkCalendar())
    category = {k[1]: v for k, v in load.items() if k[2] == "category:knitwear"}
    assert category == {date(2025, 5, 19): 300.0, date(2025, 5, 26): 500.0, date(2025, 6, 2): 400.0}
    buckets = {k[2] for k in load}
    assert buckets == {
        "category:knitwear",
        "process:knitting",
        "process:linking",
        "process:washing",
    }
    for bucket in buckets:
        assert sum(v for k, v in load.items() if k[2] == bucket) == pytest.approx(1200)


def test_a_six_day_week_moves_load_onto_saturdays() -> None:
    _, five = knitwear(WorkCalendar())
    _, six = knitwear(WorkCalendar.six_day_week())
    assert five != six
    assert sum(v for k, v in six.items() if k[2] == "process:knitting") == pytest.approx(1200)


def test_delta_of_old_and_new_keeps_negatives_and_drops_zeros() -> None:
    k1, k2, k3 = (
        ("s", date(2025, 1, 6), "a"),
        ("s", date(2025, 1, 13), "a"),
        ("t", date(2025, 1, 6), "a"),
    )
    d = cap.delta(cap.Load({k1: 10, k2: 5}), cap.Load({k2: 5, k3: 7}))
    assert d == cap.Load({k1: -10, k3: 7})


def test_utilisation_and_overload() -> None:
    assert cap.utilisation_pct(130, 100) == 130.0
    assert cap.utilisation_pct(50, None) is None
    assert cap.overloaded(100, 100) is False
    assert cap.overloaded(100.5, 100) is True
    assert cap.overloaded(10_000, None) is False


def test_the_latest_effective_capacity_covering_the_week_wins() -> None:
    rows = [(date(2025, 1, 1), None, 100), (date(2025, 3, 3), date(2025, 3, 16), 50)]
    assert cap.capacity_on(date(2025, 2, 24), rows) == 100
    assert cap.capacity_on(date(2025, 3, 10), rows) == 50
    assert cap.capacity_on(date(2025, 3, 17), rows) == 100
    assert cap.capacity_on(date(2024, 12, 23), rows) is None


days = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))
calendars = st.builds(
    WorkCalendar,
    weekend=st.frozensets(st.integers(0, 6), max_size=3),
    holidays=st.frozensets(days, max_size=20),
)


@given(st.integers(1, 1_000_000), days, st.integers(0, 60), calendars)
def test_spreading_keeps_the_quantity_and_uses_only_working_days(
    quantity: int, start: date, length: int, calendar: WorkCalendar
) -> None:
    end = start + timedelta(days=length)
    weeks = cap.spread(quantity, start, end, calendar)
    assert sum(weeks.values()) == pytest.approx(quantity)
    assert all(w.weekday() == 0 and cap.week_of(start) <= w <= cap.week_of(end) for w in weeks)
    working = [start + timedelta(days=i) for i in range(length + 1)]
    working = [d for d in working if calendar.is_working_day(d)]
    for week, units in weeks.items():
        mine = [d for d in working if cap.week_of(d) == week]
        assert units == pytest.approx(quantity * len(mine) / len(working)) if working else True


@given(st.integers(1, 100_000), st.integers(1, 100_000))
def test_moving_a_plan_then_back_nets_to_nothing(quantity: int, shift: int) -> None:
    _, before = knitwear(WorkCalendar(), quantity)
    later = timedelta(weeks=shift % 5 + 1)
    moved = cap.Load({(k[0], k[1] + later, k[2]): v for k, v in before.items()})
    total = cap.add(cap.add(cap.Load(), cap.delta(before, moved)), cap.delta(moved, before))
    assert all(abs(v) < 1e-6 for v in total.values())


def order(plan: Plan, quantity: int = 600) -> SupplierOrder:
    o = SupplierOrder(
        "o-1",
        "PO-1",
        "s-1",
        "F",
        "b-1",
        "knitwear",
        quantity,
        plan.target_date,
        True,
        plan,
        version=1,
    )
    utilisation.remember_loaded(o)
    return o


def test_a_late_start_moves_load_and_keeps_the_total() -> None:
    plan, _ = knitwear(WorkCalendar())
    o = order(plan)
    late = datetime(2025, 5, 28, 9, tzinfo=UTC)  # planned to start on 14 May
    plan.apply_progress(ProgressReport("m1", 1, 10, late), late)
    change = utilisation.load_changes([o])
    assert change, "a re-forecast moves load"
    assert any(v < 0 for v in change.values()) and any(v > 0 for v in change.values())
    for bucket in {k[2] for k in change}:
        assert sum(v for k, v in change.items() if k[2] == bucket) == pytest.approx(0, abs=1e-6)
    assert utilisation.load_changes([o]) == cap.Load(), "recorded once"


def test_a_report_that_moves_no_date_changes_no_load() -> None:
    plan, _ = knitwear(WorkCalendar())
    o = order(plan)
    start = datetime(2025, 5, 14, 9, tzinfo=UTC)
    plan.apply_progress(ProgressReport("m1", 1, 10, start), start)
    utilisation.load_changes([o])
    plan.apply_progress(
        ProgressReport("m2", 1, 40, start + timedelta(days=1)), start + timedelta(days=1)
    )
    assert o.changed and utilisation.load_changes([o]) == cap.Load()


def test_a_new_order_adds_its_whole_load() -> None:
    plan, load = knitwear(WorkCalendar(), 600)
    o = SupplierOrder(
        "o-2", "PO-2", "s-1", "F", "b-1", "knitwear", 600, plan.target_date, True, plan
    )
    o.dirty = True
    assert utilisation.load_changes([o]) == load


@given(st.lists(st.integers(-30, 30), min_size=8, max_size=8), st.integers(1, 5000))
def test_the_change_of_moved_stages_equals_the_difference_of_whole_loads(shifts, quantity) -> None:  # type: ignore[no-untyped-def]
    plan, _ = knitwear(WorkCalendar(), quantity)
    loading = cap.Loading.of("knitwear", quantity, WorkCalendar(), plan.stages)
    old = loading.signature("s-1", plan.stages)
    for stage, shift in zip(plan.stages, shifts, strict=True):
        if stage.forecast_start and stage.forecast_end:
            stage.forecast_start += timedelta(days=shift)
            stage.forecast_end += timedelta(days=shift + abs(shift) // 3)
    new = loading.signature("s-1", plan.stages)
    whole = cap.delta(loading.load(old), loading.load(new))
    change = loading.change(old, new)
    assert whole.keys() == change.keys()
    assert all(change[k] == pytest.approx(v, abs=1e-6) for k, v in whole.items())
    moved = cap.Loading.change(loading, old, ("s-2", new[1], None))
    assert sum(v for k, v in moved.items() if k[0] == "s-1") == pytest.approx(-4 * quantity)


# ---- closing a plan: its load after the closing day is released ----------------------------

KNITTING = {date(2025, 5, 19): 300.0, date(2025, 5, 26): 500.0, date(2025, 6, 2): 400.0}


def knitting_of(load: cap.Load) -> dict[date, float]:
    return {k[1]: v for k, v in load.items() if k[2] == "category:knitwear"}


def test_a_spread_through_a_day_keeps_only_the_shares_up_to_it() -> None:
    # 1200 over the 12 working days of Wed 21 May - Thu 5 June: 100 a day
    weeks = cap.spread(1200, date(2025, 5, 21), date(2025, 6, 5), WorkCalendar(), date(2025, 5, 27))
    assert weeks == {date(2025, 5, 19): 300.0, date(2025, 5, 26): 200.0}
    assert (
        cap.spread(1200, date(2025, 5, 21), date(2025, 6, 5), WorkCalendar(), date(2025, 5, 20))
        == {}
    )
    weekend = cap.spread(
        70, date(2025, 5, 24), date(2025, 5, 25), WorkCalendar(), date(2025, 5, 24)
    )
    assert weekend == {}, "a stage without working days loads its last day, which is after"


def test_cancelling_mid_stage_releases_the_remaining_days_only() -> None:
    plan, _ = knitwear(WorkCalendar())
    o = order(plan, 1200)
    assert o.close(Closure("cancelled", datetime(2025, 5, 27, 15, tzinfo=UTC)))
    released = utilisation.load_changes([o])
    # knitting keeps Wed 21 - Tue 27 May (5 days, 500) and releases the 7 days after
    assert knitting_of(released) == {date(2025, 5, 26): -300.0, date(2025, 6, 2): -400.0}
    assert all(v < 0 for v in released.values()), "a closing only releases"
    stages_before = {k for k, v in released.items() if k[1] < date(2025, 5, 26)}
    assert not stages_before, "nothing before the closing week moves"
    assert utilisation.load_changes([o]) == cap.Load(), "released once"
    assert not o.close(Closure("cancelled", datetime(2025, 6, 1, tzinfo=UTC))), "a repeat"
    assert utilisation.load_changes([o]) == cap.Load()


def test_a_closed_plan_moved_later_adds_no_load_after_its_closing_day() -> None:
    plan, whole = knitwear(WorkCalendar())
    o = order(plan, 1200)
    o.close(Closure("cancelled", datetime(2025, 3, 3, tzinfo=UTC)))  # before any stage
    released = utilisation.load_changes([o])
    assert released == {k: -v for k, v in whole.items()}, "all of it released"
    late = datetime(2025, 5, 28, 9, tzinfo=UTC)
    plan.apply_progress(ProgressReport("m1", 1, 10, late), late)
    assert utilisation.load_changes([o]) == cap.Load()


@given(st.integers(0, 150))
def test_kept_and_released_load_add_up_to_the_plan_for_any_closing_day(days: int) -> None:  # type: ignore[no-untyped-def]
    plan, whole = knitwear(WorkCalendar())
    o = order(plan, 1200)
    closed_on = TODAY + timedelta(days=days)
    o.close(Closure("completed", datetime.combine(closed_on, datetime.min.time(), UTC)))
    released = utilisation.load_changes([o])
    kept = o.loading.load(o.load_signature())
    assert all(v < 0 for v in released.values())
    for key, units in whole.items():
        assert kept.get(key, 0.0) - released.get(key, 0.0) == pytest.approx(units, abs=1e-6)
    assert all(k[1] <= cap.week_of(closed_on) for k in kept), "nothing kept after the day"
    assert all(k[1] >= cap.week_of(closed_on) for k in released), "nothing released before it"


def test_each_crossing_is_counted_in_the_order_the_changes_were_made() -> None:
    # 250 of 300; a second order (+100) overloads it, a re-forecast (-100) relieves it
    units, flips = cap.crossings(250.0, False, [100.0, -100.0], 300)
    assert units == pytest.approx(250.0)
    assert flips == [(0, True, 350.0), (1, False, 250.0)], "both, though the sum is unchanged"
    assert cap.crossings(250.0, False, [10.0, 20.0], 300)[1] == []
    assert cap.crossings(250.0, False, [-100.0, 100.0], 300)[1] == []
    assert cap.crossings(350.0, False, [], 300)[1] == [(-1, True, 350.0)], "a stale flag first"
    assert cap.crossings(350.0, True, [1.0], None)[1] == [(-1, False, 350.0)]
