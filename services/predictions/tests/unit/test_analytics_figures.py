"""Each analytics figure on a small hand-made history, the expected numbers worked out by hand."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import orjson
import pytest

from looptrace_predictions.analytics import figures as fig
from looptrace_predictions.analytics import scorecard as sc
from looptrace_predictions.analytics.domain import OrderRecord, StageRecord, season_of
from looptrace_predictions.analytics.stage_rollups import STAGE_ROLLUPS, deltas, rollup_deltas


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def planned_order(oid: str, supplier: str) -> OrderRecord:
    o = OrderRecord(oid, buyer_id="b1", category="cut-and-sew", target_date=date(2026, 3, 31))
    o.assigned(supplier, at("2026-02-27"))
    o.plan([
        StageRecord(1, "Cutting", date(2026, 3, 1), date(2026, 3, 5)),          # 4 days
        StageRecord(2, "Sewing", date(2026, 3, 5), date(2026, 3, 15)),          # 10 days
        StageRecord(3, "Final QC", date(2026, 3, 15), date(2026, 3, 17), qc=True),  # 2 days
    ])  # fmt: skip
    return o


def run(o: OrderRecord, stages: list[tuple[str, str]]) -> OrderRecord:
    for n, (start, end) in enumerate(stages, 1):
        o.stage_started(n, at(start))
        o.stage_completed(n, at(end))
    return o


def history() -> list[OrderRecord]:
    # A: cutting 2 days late (creates 2), sewing one more (creates 1), QC recovers a day
    a = run(planned_order("A", "s1"), [("2026-03-01", "2026-03-07"), ("2026-03-07", "2026-03-18"),
                                       ("2026-03-18", "2026-03-19")])  # fmt: skip
    # B: cutting on time, sewing 5 days over (creates 5), QC on its planned duration
    b = run(planned_order("B", "s2"), [("2026-03-01", "2026-03-05"), ("2026-03-05", "2026-03-20"),
                                       ("2026-03-20", "2026-03-22")])  # fmt: skip
    return [a, b]


def bins_of(orders: list[OrderRecord]) -> list[fig.OverrunBin]:
    """What the histogram rollup holds for these orders (the rollup deltas from nothing)."""
    hist, _ = rollup_deltas([], [f for o in orders for f in o.stage_facts()])
    return [fig.OverrunBin(r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in hist]


def test_stage_facts_attribute_lateness_to_the_stage_that_created_it() -> None:
    a, b = history()
    assert [(f.stage_name, f.days_in_stage, f.overrun_days, f.late_days, f.created_days)
            for f in a.stage_facts()] == [("Cutting", 6, 2, 2, 2), ("Sewing", 11, 1, 3, 1),
                                          ("Final QC", 1, -1, 2, 0)]  # fmt: skip
    assert [f.created_days for f in b.stage_facts()] == [0, 5, 0]
    assert [f.supplier_id for f in b.stage_facts()] == ["s2", "s2", "s2"]


def test_stage_performance_and_the_bottleneck() -> None:
    perf = fig.stage_performance(bins_of(history()))
    rows = {r["stage"]: r for r in perf["stages"]}
    # Cutting: days 6 and 4 → 5.0; overruns [0, 2]: median = 1st of 2 = 0, p90 = 2nd = 2
    assert (rows["Cutting"]["completed"], rows["Cutting"]["avg_days_in_stage"]) == (2, 5.0)
    assert (rows["Cutting"]["median_overrun_days"], rows["Cutting"]["p90_overrun_days"]) == (0, 2)
    assert rows["Cutting"]["slipped_pct"] == 50.0  # A created lateness there, B did not
    # Sewing: days 11 and 15 → 13.0; overruns [1, 5]; both created lateness (1 + 5 = 6 days)
    assert (rows["Sewing"]["avg_days_in_stage"], rows["Sewing"]["median_overrun_days"],
            rows["Sewing"]["p90_overrun_days"], rows["Sewing"]["slipped_pct"]) == (13.0, 1, 5, 100.0)  # fmt: skip
    # Final QC: overruns [-1, 0]: quicker than planned once, never the cause of lateness
    assert (rows["Final QC"]["median_overrun_days"], rows["Final QC"]["slipped_pct"]) == (-1, 0.0)
    assert perf["lateness_created_days"] == 8  # 2 + 1 + 5
    assert perf["bottleneck"]["stage"] == "Sewing"
    assert (rows["Sewing"]["lateness_share_pct"], rows["Cutting"]["lateness_share_pct"]) == (
        75.0,
        25.0,
    )
    assert [r["stage"] for r in perf["stages"]] == ["Cutting", "Sewing", "Final QC"]


def test_a_reopened_stage_leaves_the_rollups_until_it_completes_again() -> None:
    a, _ = history()
    before = a.stage_facts()
    a.stage_reopened(3)
    hist, sup = rollup_deltas(before, a.stage_facts())
    assert [(r[4], r[5], r[6]) for r in hist] == [("Final QC", -1, -1)]  # one stage taken out
    assert [(r[1], r[5], r[6]) for r in sup] == [("s1", "Final QC", -1)]
    a.stage_completed(3, at("2026-03-24"))  # redone: 6 days in stage, 4 over plan, 7 late
    assert a.stage_facts()[-1].overrun_days == 4 and a.stage_facts()[-1].created_days == 4


def test_the_daily_week_part_and_supplier_total_rollups_of_the_history() -> None:
    """A's stages completed 03-07 (Sat), 03-18 (Wed), 03-19; B's 03-05 (Thu), 03-20, 03-22
    (Sun). 2026-03-01 is a Sunday: its week part is 03-01 alone, then 03-02..08, 03-16..22."""
    rows = dict(zip((r.name for r in STAGE_ROLLUPS),
                    deltas([], [f for o in history() for f in o.stage_facts()]), strict=True))  # fmt: skip
    d, dims = date.fromisoformat, ("cut-and-sew", "SS26")
    # (period, supplier, category, season, n, days in stage, created, slipped, overrun)
    assert rows["analytics_supplier_total_parts"] == [
        (d("2026-03-02"), "s1", *dims, 1, 6, 2, 1, 2),  # A's cutting
        (d("2026-03-02"), "s2", *dims, 1, 4, 0, 0, 0),  # B's cutting
        (d("2026-03-16"), "s1", *dims, 2, 11 + 1, 1, 1, 1 - 1),  # A's sewing and QC
        (d("2026-03-16"), "s2", *dims, 2, 15 + 2, 5, 1, 5),  # B's sewing and QC
    ]  # fmt: skip
    assert rows["analytics_supplier_total_days"][3:] == [
        (d("2026-03-19"), "s1", *dims, 1, 1, 0, 0, -1),
        (d("2026-03-20"), "s2", *dims, 1, 15, 5, 1, 5),
        (d("2026-03-22"), "s2", *dims, 1, 2, 0, 0, 0),
    ]  # fmt: skip
    # the histogram by day: one stage a day, keyed by its overrun (n, days, created, slipped)
    assert rows["analytics_stage_histogram_days"][0] == (
        d("2026-03-05"), *dims, 1, "Cutting", 0, 1, 4, 0, 0)  # fmt: skip
    assert len(rows["analytics_stage_histogram_days"]) == 6
    # every rollup counts the six stages and the 8 days of lateness created once
    for rollup in STAGE_ROLLUPS:
        n, created = rollup.fields.index("n"), rollup.fields.index("created_sum")
        table = rows[rollup.name]
        assert (sum(r[n] for r in table), sum(r[created] for r in table)) == (6, 8), rollup.name
    a, _ = history()
    before = a.stage_facts()
    a.stage_reopened(2)  # sewing reopened: taken out of every rollup, and nothing else
    for rollup, table in zip(STAGE_ROLLUPS, deltas(before, a.stage_facts()), strict=True):
        sums = table[0][rollup.fields.index("n") :]  # one row: sewing's, taken out
        assert (len(table), sums[:3]) == (1, (-1, -11, -1)), rollup.name


def test_nearest_rank_percentiles() -> None:
    counts = {-1: 1, 0: 3, 2: 4, 9: 2}  # 10 observations
    assert fig.nearest_rank(counts, 0.5) == 2  # 5th value
    assert fig.nearest_rank(counts, 0.9) == 9  # 9th value
    assert fig.nearest_rank(counts, 0.1) == -1
    assert fig.nearest_rank({}, 0.5) is None


def test_wip_delayed_and_seasons() -> None:
    o = planned_order("C", "s1")
    o.stage_started(1, at("2026-03-01"))
    assert o.current_stage == "Cutting" and o.is_open
    o.stage_completed(1, at("2026-03-04"))
    assert o.current_stage == "Sewing"  # waiting to start
    assert not o.delayed
    o.learn(projected_completion=date(2026, 4, 2))
    assert o.delayed  # forecast after the target date
    assert (season_of(date(2026, 6, 30)), season_of(date(2026, 7, 1))) == ("SS26", "AW26")


def test_responsiveness_from_first_report_and_replies() -> None:
    o = planned_order("D", "s1")  # assigned 2026-02-27 09:00
    o.stage_started(1, at("2026-02-28", 15))
    assert o.first_report_hours == 30.0
    assert o.message("buyer", at("2026-03-02", 8)) is None
    assert o.message("buyer", at("2026-03-02", 10)) is None  # still the first question waits
    reply = o.message("supplier", at("2026-03-02", 20))
    assert reply is not None and reply.hours == 12.0
    assert o.message("supplier", at("2026-03-03")) is None  # nothing was asked


def test_qc_effectiveness() -> None:
    # s1: first inspection of 100 units failed (major 5, minor 6, critical 1), re-inspection of
    # 50 units passed (minor 4); a second lot's first inspection of 100 units passed
    row = fig.qc_row(fig.QcCounts("s1", first_inspections=2, first_passed=1, reinspections=1,
                                  units=250, critical=1, major=5, minor=10))  # fmt: skip
    assert row["first_pass_pct"] == 50.0
    assert row["reinspections"] == 1 and row["inspections"] == 3
    assert (row["critical_per_100"], row["major_per_100"], row["minor_per_100"]) == (0.4, 2.0, 4.0)
    assert row["dhu"] == 6.4  # 16 defects in 250 units
    assert fig.qc_row(fig.QcCounts("none"))["first_pass_pct"] is None


def test_delivery_projection() -> None:
    orders = [
        # due the week of Mon 2026-03-30: one on time by plan, one 3 days late by plan
        fig.OpenOrder("o1", "PO-1", "s1", date(2026, 3, 31), date(2026, 3, 30), 0.0),
        fig.OpenOrder("o2", "PO-2", "s1", date(2026, 4, 1), date(2026, 4, 4), 1.0),
        # due the week of Mon 2026-04-06: on time by plan, but the model expects 6 days' delay
        fig.OpenOrder("o3", "PO-3", "s2", date(2026, 4, 8), date(2026, 4, 8), 6.2),
        fig.OpenOrder("o4", "PO-4", "s2", date(2026, 4, 9), None, None),  # no plan, no model
    ]
    p = fig.delivery_projection(fig.week_counts(orders), orders)
    assert p["open_orders"] == 4
    assert p["projected_on_time_pct"] == 75.0  # o1, o3, o4
    assert p["model_on_time_pct"] == 33.3  # of o1..o3 only o1 has < 0.5 days expected
    assert [(w["week"], w["due"], w["late_by_plan"]) for w in p["weeks"]] == [
        ("2026-03-30", 2, 1), ("2026-04-06", 2, 0)]  # fmt: skip
    assert [(r["order_id"], r["projected_late_days"]) for r in p["risk_orders"]] == [
        ("o3", 6), ("o2", 3)]  # fmt: skip


def test_scorecard_formula_grades_and_peers() -> None:
    jan = sc.Activity("s1", date(2026, 1, 1), finished=4, on_time=3, stages=20, created_days=10,
                      first_inspections=4, first_passed=3, units=500, defects=10,
                      wait_hours=96.0, waits=2)  # fmt: skip
    # on_time 75, slip 100 - 20 x 0.5 = 90, first_pass 75, dhu 100 - 10 x 2 = 80,
    # responsiveness: 48 h → 100 x (168 - 48) / 144 = 83.33
    points = sc.components(jan)
    assert points["slip"] == 90.0 and points["dhu"] == 80.0
    assert points["responsiveness"] == pytest.approx(83.333, abs=0.001)
    # (2625 + 1350 + 1875 + 800 + 1250) / 100 = 79.0
    assert sc.score(jan) == 79.0
    assert sc.grade(79.0) == "B" and sc.grade(85) == "A" and sc.grade(54.9) == "D"
    # a month with only inspections: the score is its first-pass and DHU points only
    feb = sc.Activity(
        "s1", date(2026, 2, 1), first_inspections=2, first_passed=2, units=100, defects=0
    )
    assert sc.score(feb) == 100.0
    assert sc.score(sc.Activity("s1", date(2026, 3, 1))) is None  # no activity, no score
    peer = sc.Activity("s2", date(2026, 1, 1), finished=2, on_time=0)
    cards = sc.scorecards([jan, feb, peer], {"s1": "knitwear", "s2": "knitwear"})
    s1 = next(c for c in cards if c["supplier_id"] == "s1")
    assert [m["month"] for m in s1["monthly"]] == ["2026-01", "2026-02"]  # only active months
    assert s1["qc_first_pass_pct"] == round(100 * 5 / 6, 1)  # both months together
    assert (s1["peer_percentile"], s1["peers"]) == (100.0, 1)
    assert next(c for c in cards if c["supplier_id"] == "s2")["peer_percentile"] == 0.0
    assert s1["capacity_utilisation_pct"] is None


def test_supplier_stage_summary_names_the_worst_stage() -> None:
    rows = defaultdict(list)
    for o in history():
        for f in o.stage_facts():
            rows[(f.supplier_id, f.stage_name)].append(f)
    summary = fig.supplier_stage_summary(
        fig.SupplierStage(s, name, len(fs), sum(f.days_in_stage for f in fs),
                          sum(f.overrun_days for f in fs), sum(f.created_days for f in fs),
                          sum(f.slipped for f in fs))
        for (s, name), fs in rows.items()
    )  # fmt: skip
    assert [(r["supplier_id"], r["lateness_created_days"], r["worst_stage"]) for r in summary] == [
        ("s2", 5, "Sewing"), ("s1", 3, "Cutting")]  # fmt: skip
    assert summary[1]["avg_overrun_days"] == round((2 + 1 - 1) / 3, 2)


def test_on_time_trend_counts_only_months_with_finished_orders() -> None:
    months = [
        sc.Activity("s1", date(2026, 1, 1), finished=3, on_time=2),
        sc.Activity("s2", date(2026, 1, 1), finished=1, on_time=1),
        sc.Activity("s1", date(2026, 2, 1), stages=4),  # active, but nothing finished
        sc.Activity("s2", date(2026, 3, 1), finished=2, on_time=0),
    ]
    assert sc.on_time_trend(months) == [
        {"month": "2026-01", "finished": 4, "on_time": 3, "on_time_pct": 75.0},
        {"month": "2026-03", "finished": 2, "on_time": 0, "on_time_pct": 0.0},
    ]


def test_an_order_reads_back_from_its_stored_state_old_form_and_new() -> None:
    a, _ = history()
    a.message("buyer", at("2026-03-02"))
    a.status_changed("shipped", "completed", at("2026-03-25"))
    stored = orjson.loads(orjson.dumps(a.to_state()))
    assert OrderRecord.from_state(stored) == a
    legacy = orjson.loads(orjson.dumps(a))  # the object form rows were written in before
    assert OrderRecord.from_state(legacy) == a
    assert OrderRecord.from_state(stored).stage_facts() == a.stage_facts()
