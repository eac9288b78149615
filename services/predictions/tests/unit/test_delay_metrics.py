"""Each metric `evaluate` reports, on cases small enough to work out by hand."""

import numpy as np
import pandas as pd
import pytest

from looptrace_predictions.arrays import StageTable
from looptrace_predictions.projection import earned_schedule_lateness, forecast_end_days
from looptrace_predictions.supplier_groups import supplier_groups
from looptrace_predictions.training.evaluation import _delay_mae
from looptrace_predictions.training.fitting import conformal_correction
from looptrace_predictions.training.lead_time import choose_thresholds, threshold_for
from looptrace_predictions.training.metrics import (
    expected_calibration_error,
    interval_coverage,
    lead_time_summary,
    reliability_bins,
    warning_lead_times,
)

NAN = np.nan


def test_ece_is_zero_when_every_bin_matches_its_late_rate() -> None:
    p = np.array([0.15] * 20 + [0.85] * 20)
    late = np.array([1] * 3 + [0] * 17 + [1] * 17 + [0] * 3)
    assert expected_calibration_error(late, p) == pytest.approx(0.0)


def test_ece_weighs_each_bins_gap_by_its_rows() -> None:
    # bin 0.9: 4 rows, mean p 0.9, half late → gap 0.4; bin 0.1: 6 rows, none late → gap 0.1
    p = np.array([0.9] * 4 + [0.1] * 6)
    late = np.array([1, 1, 0, 0] + [0] * 6)
    assert expected_calibration_error(late, p) == pytest.approx((4 * 0.4 + 6 * 0.1) / 10)
    bins = reliability_bins(late, p)
    assert [(b["from"], b["n"], b["late_rate"]) for b in bins] == [(0.1, 6, 0.0), (0.9, 4, 0.5)]


def test_a_probability_of_one_falls_in_the_last_bin() -> None:
    assert reliability_bins(np.array([1]), np.array([1.0]))[0]["from"] == 0.9


def test_coverage_counts_outcomes_inside_the_closed_interval() -> None:
    actual = np.array([0.0, 5.0, 10.0, 11.0])
    assert interval_coverage(actual, np.zeros(4), np.full(4, 10.0)) == 0.75


def test_conformal_correction_widens_until_the_level_is_held() -> None:
    # interval [0, 10]; outcomes 1..9 inside, 12 and 15 outside by 2 and 5
    actual = np.array([1, 2, 3, 4, 5, 6, 7, 8, 12, 15], dtype=float)
    low, high = np.zeros(10), np.full(10, 10.0)
    widen = conformal_correction(low, high, actual, level=0.9)
    assert widen == 5.0  # ceil(11 × 0.9) = 10th of 10 scores: the 15 must fit too
    assert interval_coverage(actual, low - widen, high + widen) >= 0.9
    narrow = conformal_correction(low, high, np.full(10, 5.0), level=0.8)
    assert narrow == -5.0  # every outcome sits mid-interval: the band can shrink to a point


def _life() -> pd.DataFrame:
    """Three orders, snapshots on target-10, target-5, target-1 (days_to_target 10, 5, 1)."""
    rows = []
    for oid, late, lateness in (
        ("late-a", True, 4.0),
        ("late-b", True, 2.0),
        ("fine", False, -3.0),
    ):
        for days_to_target in (10.0, 5.0, 1.0):
            rows.append(
                {"order_id": oid, "late": late, "lateness_days": lateness,
                 "days_to_target": days_to_target, "progress_gap": 0.0}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_lead_time_is_days_before_target_of_the_first_warning() -> None:
    life = _life()
    # late-a warned from the 2nd snapshot (5 days ahead), late-b never, fine once (a false alarm)
    warned = np.array([False, True, True, False, False, False, False, False, True])
    per_order = warning_lead_times(life, warned)
    assert per_order.loc["late-a", "lead_days"] == 5.0
    assert per_order.loc["late-b", "lead_days"] == -2.0  # learnt on completion, 2 days late
    summary = lead_time_summary(per_order)
    assert summary["median_lead_days_late"] == pytest.approx(1.5)
    assert summary["warned_before_end_late_share"] == 0.5
    assert summary["false_alarms_per_100_on_time"] == 100.0


def test_thresholds_keep_false_alarms_within_the_budget() -> None:
    life = pd.DataFrame(
        {"order_id": [f"o{k}" for k in range(10) for _ in range(2)],
         "late": [k >= 8 for k in range(10) for _ in range(2)]}
    )  # fmt: skip
    # on-time orders o0..o7 peak at 0.1 … 0.8; late ones at 0.95
    p = np.array([v for k in range(10) for v in (0.0, 0.95 if k >= 8 else 0.1 * (k + 1))])
    t = threshold_for(life, p, budget=0.25)  # 2 of 8 on-time orders may be warned
    assert 0.6 < t <= 0.7 and (np.array([0.1 * (k + 1) for k in range(8)]) >= t).sum() == 2
    chosen = choose_thresholds(life, p)
    assert chosen["medium"] <= chosen["high"]


def _stages(**arrays: list) -> StageTable:
    shape = len(arrays["planned_start"][0])
    fill = {"stage_number": [list(range(1, shape + 1))], "stage_name": [["x"] * shape],
            "actual_start": [[NAN] * shape], "actual_end": [[NAN] * shape],
            "qc_failures": [[0.0] * shape]}  # fmt: skip
    values = fill | arrays
    return StageTable(**{k: np.array(v, dtype=object if k == "stage_name" else float)
                         for k, v in values.items()})  # fmt: skip


def test_production_forecast_pushes_later_stages_after_a_slip() -> None:
    # three stages of 10 days planned 0–10, 10–20, 20–30; stage 1 ended on 14, stage 2
    # started on 15: it ends 25, stage 3 starts then and ends 35
    stages = _stages(planned_start=[[0, 10, 20]], planned_end=[[10, 20, 30]],
                     actual_start=[[0, 15, NAN]], actual_end=[[14, NAN, NAN]])  # fmt: skip
    assert forecast_end_days(stages, np.array([0]), np.array([16.0]))[0] == 35.0
    # as known on day 12 nothing had ended: stage 1 runs its plan from its start, the plan holds
    assert forecast_end_days(stages, np.array([0]), np.array([12.0]))[0] == 30.0


def test_earned_schedule_carries_the_pace_so_far_to_the_end() -> None:
    # 40 planned days, 20 elapsed, only a quarter of the work earned: pace 2 → 80 days,
    # 60 still to go while the target is 25 days away → 35 days late
    frame = pd.DataFrame({"planned_duration_days": [40.0], "elapsed_fraction": [0.5],
                          "progress_fraction": [0.25], "days_to_target": [25.0]})  # fmt: skip
    assert earned_schedule_lateness(frame)[0] == pytest.approx(35.0)


def test_delay_mae_ratio_is_to_the_best_honest_baseline() -> None:
    rows = pd.DataFrame(
        {"delay_days": [0.0, 4.0], "forecast_lateness_days": [0.0, 4.0],
         "planned_duration_days": [40.0, 40.0], "elapsed_fraction": [0.5, 0.5],
         "progress_fraction": [0.5, 0.5], "days_to_target": [22.0, 22.0]}
    )  # fmt: skip
    groups = {"overall": np.array([True, True])}
    scores = _delay_mae(rows, np.array([1.0, 3.0]), np.zeros(2), groups)["overall"]
    # production forecast is exact (MAE 0): the ratio has no finite value to beat
    assert scores["production_forecast"] == 0.0 and np.isnan(scores["ratio_to_best_baseline"])
    rows["forecast_lateness_days"] = [2.0, 2.0]  # every baseline is now off by 2 on average
    scores = _delay_mae(rows, np.array([0.5, 3.5]), np.zeros(2), groups)["overall"]
    assert (scores["no_delay"], scores["production_forecast"], scores["model"]) == (2.0, 2.0, 0.5)
    assert scores["ratio_to_best_baseline"] == pytest.approx(0.5 / 2.0)


def test_supplier_groups_by_track_record() -> None:
    rows = pd.DataFrame({"supplier_past_orders": [0, 10, 10, 10],
                         "supplier_on_time_rate": [0.9, 0.9, 0.6, 0.2]})  # fmt: skip
    assert list(supplier_groups(rows)) == ["new", "reliable", "mixed", "unreliable"]
