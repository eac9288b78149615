from pathlib import Path

import pandas as pd
import pytest

from looptrace_predictions.training.history import HISTORY_COLUMNS, load_history, summarise_orders

HEADER = ",".join(HISTORY_COLUMNS)


def _row(order: str = "PO-1", stage: int = 1, **overrides: str) -> str:
    values = {
        "order_id": order,
        "supplier_id": "S1",
        "product_category": "knitwear",
        "quantity": "500",
        "order_date": "2024-01-01",
        "target_date": "2024-01-20",
        "stage_number": str(stage),
        "stage_name": f"Stage {stage}",
        "planned_start": "2024-01-01",
        "planned_end": "2024-01-10",
        "actual_start": "2024-01-01",
        "actual_end": "2024-01-12",
    }
    values.update(overrides)
    return ",".join(values[c] for c in HISTORY_COLUMNS)


def _write(tmp_path: Path, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "history.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_broken_rows_are_reported_by_line_and_the_rest_is_kept(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _row(stage=1),
            _row(stage=2, planned_end="2024-13-01"),
            _row(stage=3, quantity="many"),
            _row(stage=4) + ",extra",
            _row(stage=5, actual_start="", actual_end=""),
        ],
    )
    frame, errors = load_history(path)
    assert errors == [
        "line 3: planned_end '2024-13-01' is not a date (YYYY-MM-DD)",
        "line 4: 'many' in quantity is not a whole number ≥ 1",
        "line 5: expected 12 fields, found 13",
    ]
    assert frame["stage_number"].tolist() == [1, 5]
    assert frame["actual_end"].isna().tolist() == [False, True]


def test_rules_across_columns_and_rows_are_checked(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _row(stage=1),
            _row(stage=1),
            _row(stage=2, planned_start="2024-01-11", planned_end="2024-01-05"),
            _row(stage=3, supplier_id="S9"),
            _row(stage=4, actual_start=""),
        ],
    )
    _, errors = load_history(path)
    assert errors == [
        "line 3: stage_number repeats an earlier row of the same order",
        "line 4: planned_end is before planned_start",
        "line 5: supplier_id differs from the order's first row",
        "line 6: actual_end is given but actual_start is empty",
    ]


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, ["PO-1,S1"], header="order_id,supplier_id")
    frame, errors = load_history(path)
    assert frame.empty
    assert errors[0].startswith("line 1: missing column(s) product_category, quantity")


def test_extra_columns_are_ignored_and_qc_failures_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row() + ",2,x"], header=HEADER + ",qc_failures,comment")
    frame, errors = load_history(path)
    assert errors == []
    assert frame["qc_failures"].tolist() == [2]
    assert "comment" not in frame.columns


@pytest.mark.parametrize(
    ("last_end", "late", "delay"), [("2024-01-25", True, 5.0), ("2024-01-20", False, 0.0)]
)
def test_an_order_is_late_when_its_last_stage_ends_after_target(
    tmp_path: Path, last_end: str, late: bool, delay: float
) -> None:
    path = _write(
        tmp_path,
        [
            _row(stage=1, actual_end="2024-01-30"),
            _row(
                stage=2,
                planned_start="2024-01-10",
                planned_end="2024-01-18",
                actual_start="2024-01-12",
                actual_end=last_end,
            ),
        ],
    )
    orders = summarise_orders(load_history(path)[0])
    assert orders.loc["PO-1", "late"] == late
    assert orders.loc["PO-1", "delay_days"] == delay
    assert orders.loc["PO-1", "plan_end"] == pd.Timestamp("2024-01-18")


def test_an_order_whose_last_stage_has_not_ended_is_unlabelled(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(stage=1), _row(stage=2, actual_start="", actual_end="")])
    orders = summarise_orders(load_history(path)[0])
    assert not orders.loc["PO-1", "labelled"]
    assert not orders.loc["PO-1", "late"]
