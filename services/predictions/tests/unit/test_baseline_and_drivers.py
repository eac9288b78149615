from datetime import date as date_

import numpy as np
import pandas as pd

from looptrace_predictions.baseline import baseline_levels, baseline_predict
from looptrace_predictions.drivers import (
    ADD_CAPACITY,
    BOOK_INSPECTION,
    EXPEDITE_FABRIC,
    RENEGOTIATE,
    explain,
)


def _row(**overrides: object) -> dict:
    row = {
        "supplier_id": "S7",
        "current_stage_name": "Sewing & Assembly",
        "current_stage_started": True,
        "planned_duration_days": 40.0,
        "target_slack_days": 2.0,
        "days_to_target": 20.0,
        "elapsed_fraction": 0.5,
        "progress_fraction": 0.5,
        "progress_gap": 0.0,
        "current_stage_days_running": 2.0,
        "current_stage_run_ratio": 0.2,
        "current_stage_start_slip": 0.0,
        "current_stage_overdue_days": 0.0,
        "finished_end_slip_max": 0.0,
        "qc_failures_so_far": 0.0,
        "supplier_past_orders": 10.0,
        "supplier_avg_delay_days": 0.5,
        "supplier_open_orders": 4.0,
    }
    row.update(overrides)
    return row


def test_baseline_rule_levels_probabilities_and_delay() -> None:
    frame = pd.DataFrame(
        [
            _row(days_to_target=-4.0),
            _row(progress_gap=0.3, progress_fraction=0.2),
            _row(progress_gap=0.1),
        ]
    )
    assert baseline_levels(frame).tolist() == ["high", "medium", "low"]
    p_late, delay = baseline_predict(frame)
    assert p_late.tolist() == [0.9, 0.5, 0.1]
    assert np.allclose(delay, [4.0, 0.3 * 40 - 2, 0.1 * 40 - 2])


def test_an_on_plan_order_has_no_drivers() -> None:
    assert explain(_row()) == ([], [])


def test_drivers_are_ranked_by_days_and_capped_at_three() -> None:
    drivers, actions = explain(
        _row(
            supplier_avg_delay_days=6.0,
            current_stage_start_slip=4.0,
            progress_gap=0.3,
            progress_fraction=0.2,
            days_to_target=35.0,
            qc_failures_so_far=1.0,
        )
    )
    assert drivers == [
        "progress is 30% behind elapsed time",
        "supplier S7's last orders finished 6.0 days late on average",
        "Sewing & Assembly started 4 days behind plan",
    ]
    assert actions[0] == ADD_CAPACITY
    assert BOOK_INSPECTION in actions


def test_sourcing_delays_call_for_expediting_fabric_and_lost_time_for_a_new_date() -> None:
    drivers, actions = explain(
        _row(
            current_stage_name="Fabric & Trim Sourcing",
            current_stage_started=False,
            current_stage_start_slip=5.0,
            progress_fraction=0.1,
            days_to_target=-3.0,
        )
    )
    assert "Fabric & Trim Sourcing has not started; it was planned to start 5 days ago" in drivers
    assert drivers[0] == "the target date passed 3 days ago"
    assert actions[0] == RENEGOTIATE
    assert EXPEDITE_FABRIC in actions


def test_over_capacity_driver_names_the_supplier_bucket_percent_and_weeks() -> None:

    from looptrace_predictions.drivers import SPLIT_SHIPMENT

    drivers, actions = explain(
        _row(
            supplier_window_overload_pct=30.0,
            overload_bucket="process:knitting",
            overload_first_week=date_(2027, 3, 22),  # ISO week 12
            overload_last_week=date_(2027, 4, 5),  # ISO week 14
        )
    )
    assert drivers == ["supplier S7 is at 130 % of its knitting capacity in weeks 12–14"]
    assert SPLIT_SHIPMENT in actions


def test_over_capacity_driver_is_silent_at_or_under_capacity_and_when_unknown() -> None:
    assert explain(_row(supplier_window_overload_pct=0.0)) == ([], [])
    assert explain(_row(supplier_window_overload_pct=float("nan"))) == ([], [])
    one_week = explain(
        _row(
            supplier_window_overload_pct=15.0,
            overload_bucket="category:knitwear",
            overload_first_week=date_(2027, 3, 8),
            overload_last_week=date_(2027, 3, 8),
        )
    )[0]
    assert one_week == ["supplier S7 is at 115 % of its knitwear capacity in week 10"]
    # from a training snapshot (no bucket or weeks known): still a sentence
    assert explain(_row(supplier_window_overload_pct=25.0))[0] == [
        "supplier S7 is at 125 % of its capacity in the order's remaining weeks"
    ]
