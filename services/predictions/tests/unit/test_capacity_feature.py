"""The load feature: live from production's capacity announcements, in training from the
simulated history as of the snapshot day."""

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from looptrace_predictions.arrays import OrderTable, StageTable
from looptrace_predictions.capacity import CapacityPeak, WeekLoad, monday, window_overload
from looptrace_predictions.features import epoch_days
from looptrace_predictions.training.history import load_history, write_history
from looptrace_predictions.training.simulate import simulate_history
from looptrace_predictions.training.snapshots import build_snapshots

MON = date(2027, 3, 22)  # ISO week 12


def test_the_peak_is_the_most_loaded_overloaded_week_of_the_window() -> None:
    weeks = [
        WeekLoad(MON, "process:knitting", 120.0, True),
        WeekLoad(MON + timedelta(days=7), "process:knitting", 130.0, True),
        WeekLoad(MON + timedelta(days=14), "process:knitting", 104.0, True),
        WeekLoad(MON + timedelta(days=7), "process:linking", 90.0, False),  # recovered
        WeekLoad(MON + timedelta(days=35), "process:linking", 190.0, True),  # after the window
    ]
    peak = CapacityPeak.of(weeks, MON + timedelta(days=2), MON + timedelta(days=18))
    assert peak.overload_pct == 30.0
    assert (peak.bucket, peak.first_week, peak.last_week) == (
        "process:knitting",
        MON,
        MON + timedelta(days=14),
    )
    assert (
        CapacityPeak.of(weeks, MON + timedelta(days=21), MON + timedelta(days=28)).overload_pct == 0
    )


def test_a_recovered_week_and_an_order_past_its_window_count_only_the_as_of_week() -> None:
    weeks = [WeekLoad(MON, "category:knitwear", 99.0, False)]
    assert CapacityPeak.of(weeks, MON, MON + timedelta(days=6)) == CapacityPeak(0.0)
    over = [WeekLoad(MON, "category:knitwear", 150.0, True)]
    late = CapacityPeak.of(over, MON + timedelta(days=3), MON - timedelta(days=30))
    assert late.overload_pct == 50.0  # last day before as_of: the window is as_of's week


def _tables(order_days: list[int], quantities: list[float]) -> tuple[OrderTable, StageTable]:
    """One supplier; each order: one 14-day Knitting stage from its order day, never ended."""
    n = len(order_days)
    start = np.array(order_days, dtype=float)[:, None]
    orders = OrderTable(
        order_id=np.array([f"PO-{i}" for i in range(n)], dtype=object),
        supplier_id=np.array(["S1"] * n, dtype=object),
        product_category=np.array(["knitwear"] * n, dtype=object),
        quantity=np.array(quantities, dtype=float),
        order_day=start[:, 0],
        target_day=start[:, 0] + 20,
    )
    stages = StageTable(
        stage_number=np.ones((n, 1)),
        stage_name=np.array([["Knitting"]] * n, dtype=object),
        planned_start=start,
        planned_end=start + 14,
        actual_start=np.full((n, 1), np.nan),
        actual_end=np.full((n, 1), np.nan),
        qc_failures=np.zeros((n, 1)),
    )
    return orders, stages


def test_training_load_is_the_planned_making_quantity_per_week_against_capacity() -> None:
    monday_day = float(epoch_days(np.array([MON]))[0])
    orders, stages = _tables([monday_day, monday_day], [1400.0, 700.0])
    capacity = np.full(2, 500.0)  # units per week
    # both orders: 14 days from a Monday → 2 full weeks, 700 + 350 units a week = 210 %
    out = window_overload(orders, stages, capacity, np.array([0, 1]), np.array([monday_day] * 2))
    assert np.allclose(out, [110.0, 110.0])
    unknown = window_overload(orders, stages, np.full(2, np.nan), np.array([0]), np.array([0.0]))
    assert np.isnan(unknown).all()


@given(
    st.lists(st.integers(0, 60), min_size=2, max_size=8),
    st.lists(st.floats(100, 5000), min_size=8, max_size=8),
    st.integers(0, 60),
)
def test_orders_placed_after_as_of_never_change_the_feature(
    days: list[int], quantities: list[float], as_of: int
) -> None:
    base = 19_000
    orders, stages = _tables([base + d for d in days], quantities[: len(days)])
    capacity = np.full(len(days), 800.0)
    t = float(base + as_of)
    known = [i for i, d in enumerate(days) if base + d <= t]
    if not known:
        return
    full = window_overload(orders, stages, capacity, np.array(known), np.full(len(known), t))
    subset_orders, subset_stages = _tables([base + days[i] for i in known],
                                           [quantities[i] for i in known])  # fmt: skip
    alone = window_overload(subset_orders, subset_stages, capacity[: len(known)],
                            np.arange(len(known)), np.full(len(known), t))  # fmt: skip
    assert np.allclose(full, alone)


def test_monday_is_the_iso_week_start() -> None:
    assert monday(date(2027, 3, 28)) == MON and monday(MON) == MON


def test_the_simulated_history_file_carries_the_capacity_and_gives_the_same_feature(
    tmp_path: Path,
) -> None:
    history = simulate_history(300, seed=5)
    path = tmp_path / "history.csv"
    write_history(history, path)
    loaded, errors = load_history(path)
    assert errors == []
    column = "supplier_window_overload_pct"
    from_file = build_snapshots(loaded).sort_values(["order_id", "as_of"])[column]
    in_memory = build_snapshots(history).sort_values(["order_id", "as_of"])[column]
    assert (in_memory > 0).any()  # some snapshot sees its supplier over capacity
    pd.testing.assert_series_equal(
        from_file.reset_index(drop=True), in_memory.reset_index(drop=True)
    )
    unknown = loaded.drop(columns=["supplier_capacity_units"])
    assert build_snapshots(unknown)[column].isna().all()
