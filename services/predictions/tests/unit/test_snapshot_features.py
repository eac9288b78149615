from datetime import date

import numpy as np
import pandas as pd
import pytest

from looptrace_predictions.capacity import CapacityPeak
from looptrace_predictions.features import FEATURES, INFO_COLUMNS
from looptrace_predictions.samples import HISTORY_SAMPLE_COLUMNS, REJECTED_COLUMNS, PpSample
from looptrace_predictions.state import (
    OrderState,
    StageState,
    SupplierRecord,
    features_from_state,
    order_outcome,
)
from looptrace_predictions.supplier_history import PRIOR_ON_TIME_RATE, PRIOR_STAGE_SLIP
from looptrace_predictions.training.simulate import simulate_history
from looptrace_predictions.training.snapshots import build_snapshots, open_orders_features

COMPARED = INFO_COLUMNS + FEATURES


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return simulate_history(500, seed=21)


def _known_on(history: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The history as an export taken on ``day`` would have shown it."""
    known = history[history["order_date"] <= day].copy()
    known.loc[known["actual_start"] > day, "actual_start"] = pd.NaT
    known.loc[known["actual_end"] > day, "actual_end"] = pd.NaT
    for column in HISTORY_SAMPLE_COLUMNS:  # the sample loop's later steps are not known yet
        known.loc[known[column] > day, column] = pd.NaT
    return known.reset_index(drop=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["order_id", "as_of"]).reset_index(drop=True)[COMPARED]


@pytest.mark.parametrize("quantile", [0.3, 0.6, 0.85])
def test_snapshot_features_use_only_what_was_known_on_their_date(
    history: pd.DataFrame, quantile: float
) -> None:
    day = history["order_date"].quantile(quantile).floor("D")
    full = build_snapshots(history)
    known = build_snapshots(_known_on(history, day))
    expected = _sorted(full[full["as_of"] <= day])
    actual = _sorted(known[known["as_of"] <= day])
    assert len(expected) > 100
    pd.testing.assert_frame_equal(actual, expected)


def test_appending_later_orders_changes_no_earlier_snapshot(history: pd.DataFrame) -> None:
    later = simulate_history(200, seed=99)
    shift = history["order_date"].max() - later["order_date"].min() + pd.Timedelta(days=1)
    for column in [
        "order_date",
        "target_date",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
    ]:
        later[column] = later[column] + shift
    later["order_id"] = "NEW-" + later["order_id"]
    first_new = later["order_date"].min()
    before = build_snapshots(history)
    after = build_snapshots(pd.concat([history, later], ignore_index=True))
    before = _sorted(before[before["as_of"] < first_new])
    after = _sorted(after[after["as_of"] < first_new])
    assert len(before) > 1000
    pd.testing.assert_frame_equal(after, before)


def test_supplier_without_finished_orders_gets_the_prior(history: pd.DataFrame) -> None:
    snapshots = build_snapshots(history)
    cold = snapshots[snapshots["supplier_past_orders"] == 0]
    assert len(cold) > 0
    assert np.allclose(cold["supplier_on_time_rate"], PRIOR_ON_TIME_RATE)


def _states_on(
    history: pd.DataFrame, day: pd.Timestamp, order_ids: list[str], overload: list[float]
) -> list[OrderState]:
    """Live states; the capacity overload is the history's (its live source is production's
    capacity events, tested in test_capacity_feature.py)."""
    bare = {oid: _state(rows) for oid, rows in history.groupby("order_id")}
    outcomes = {oid: order_outcome(state) for oid, state in bare.items()}
    summary = history.drop_duplicates("order_id", keep="last").set_index("order_id")
    states = []
    for oid, peak in zip(order_ids, overload, strict=True):
        supplier = bare[oid].supplier_id
        same = summary[summary["supplier_id"] == supplier]
        open_count = int(((same["order_date"] <= day) & ~(same["actual_end"] <= day)).sum())
        mine = [outcomes[o] for o in same.index if outcomes[o] is not None]
        record = SupplierRecord.from_outcomes(mine, day.date())
        states.append(
            OrderState(
                **{
                    **bare[oid].__dict__,
                    "supplier": record,
                    "supplier_open_orders": open_count,
                    "capacity": CapacityPeak(peak),
                    "pp_sample": _pp_sample_heard(history[history["order_id"] == oid], day),
                }
            )
        )
    return states


def _pp_sample_heard(rows: pd.DataFrame, day: pd.Timestamp) -> PpSample:
    """The PP sample events the worker would have heard by ``day``."""
    first = rows.iloc[0]

    def known(column: str) -> date | None:
        value = first[column]
        return None if pd.isna(value) or value > day else value.date()

    rejected = [d for c in REJECTED_COLUMNS if (d := known(c)) is not None]
    requested = known("pp_requested_date")
    due = first["pp_due_date"].date() if requested is not None else None
    return PpSample(requested, due, rejected, known("pp_approved_date"))


def _state(rows: pd.DataFrame) -> OrderState:
    first = rows.iloc[0]
    stages = [
        StageState(
            int(r.stage_number),
            r.stage_name,
            r.planned_start.date(),
            r.planned_end.date(),
            None if pd.isna(r.actual_start) else r.actual_start.date(),
            None if pd.isna(r.actual_end) else r.actual_end.date(),
            int(r.qc_failures),
        )
        for r in rows.itertuples()
    ]
    return OrderState(
        first["order_id"],
        first["supplier_id"],
        first["product_category"],
        int(first["quantity"]),
        first["order_date"].date(),
        first["target_date"].date(),
        stages,
    )


def test_live_state_gives_the_same_features_as_the_history(history: pd.DataFrame) -> None:
    day = history["order_date"].quantile(0.7).floor("D")
    from_history = open_orders_features(history, day.strftime("%Y-%m-%d"))
    overload = from_history["supplier_window_overload_pct"].tolist()
    states = _states_on(history, day, from_history["order_id"].tolist(), overload)
    from_state = features_from_state(states, day.date())
    assert len(from_state) > 10
    pd.testing.assert_frame_equal(
        from_state[COMPARED].reset_index(drop=True), from_history[COMPARED].reset_index(drop=True)
    )


def test_state_features_ignore_events_after_as_of() -> None:
    stage = StageState(
        1, "Knitting", date(2024, 1, 1), date(2024, 1, 11), date(2024, 1, 3), date(2024, 1, 20), 2
    )
    order = OrderState("PO-1", "S1", "knitwear", 1000, date(2024, 1, 1), date(2024, 1, 15), [stage])
    row = features_from_state([order], date(2024, 1, 8)).iloc[0]
    assert row["finished_stages"] == 0
    assert row["qc_failures_so_far"] == 0
    assert row["current_stage_start_slip"] == 2
    assert row["current_stage_days_running"] == 5
    assert row["progress_fraction"] == pytest.approx(0.5)
    assert row["elapsed_fraction"] == pytest.approx(0.7)
    assert row["days_to_target"] == 7


def test_stage_pace_features_on_a_hand_made_order() -> None:
    """Yarn Received (slip weight 1.6) ran 8 days for a plan of 5; Knitting (1.4) has run 12
    days of its 10; Linking (1.0) waits. A supplier without a record has the prior slip 0.5."""
    stages = [
        StageState(
            1,
            "Yarn Received",
            date(2024, 1, 1),
            date(2024, 1, 6),
            date(2024, 1, 1),
            date(2024, 1, 9),
            0,
        ),
        StageState(2, "Knitting", date(2024, 1, 6), date(2024, 1, 16), date(2024, 1, 9), None, 0),
        StageState(3, "Linking", date(2024, 1, 16), date(2024, 1, 20), None, None, 0),
    ]
    order = OrderState("PO-1", "S1", "knitwear", 1000, date(2024, 1, 1), date(2024, 1, 25), stages)
    row = features_from_state([order], date(2024, 1, 21)).iloc[0]
    assert row["supplier_avg_stage_slip"] == pytest.approx(PRIOR_STAGE_SLIP)
    assert row["finished_overrun_days"] == 3
    assert row["current_stage_overrun_days"] == 2
    assert row["order_slip_rate"] == pytest.approx(5 / (1.6 + 1))
    assert row["remaining_slip_weight"] == pytest.approx(1.4 + 1.0)
    assert row["expected_remaining_slip_days"] == pytest.approx(2.4 * (5 + 2 * 0.5) / (1.6 + 2))
    # the latest done stage (Yarn Received) overran 3 days per 1.6 of slip weight
    assert row["last_overrun_rate"] == pytest.approx(3 / 1.6)
    assert row["recent_remaining_slip_days"] == pytest.approx(2.4 * 3 / 1.6)
    earlier = features_from_state([order], date(2024, 1, 12)).iloc[0]  # Knitting within plan
    assert earlier["current_stage_overrun_days"] == 0
    assert earlier["finished_overrun_days"] == 3
    before = features_from_state([order], date(2024, 1, 5)).iloc[0]  # nothing done yet
    assert before["last_overrun_rate"] == 0 and before["recent_remaining_slip_days"] == 0
