"""Drift: PSI by hand, the verdicts, and the live history export."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from looptrace_predictions.domain import LiveOrder, LiveStage
from looptrace_predictions.training.drift import (
    MIN_LIVE_ROWS,
    RETRAIN_FROM,
    _numeric_reference,
    psi,
    psi_report,
)
from looptrace_predictions.training.history import load_history, summarise_orders, write_history
from looptrace_predictions.training.live_history import history_rows


def test_psi_by_hand() -> None:
    # (0.3 − 0.5)·ln(0.3/0.5) + (0.7 − 0.5)·ln(0.7/0.5)
    expected = -0.2 * np.log(0.6) + 0.2 * np.log(1.4)
    assert psi(np.array([0.5, 0.5]), np.array([0.3, 0.7])) == pytest.approx(expected)
    assert psi(np.array([0.25] * 4), np.array([0.25] * 4)) == 0.0


def _reference(values: np.ndarray) -> dict:
    return {
        "numeric": {
            "progress_gap": _numeric_reference(values),
            "p_late": _numeric_reference(values),
        },
        "categorical": {"product_category": {"knitwear": 0.5, "cut-and-sew": 0.5}},
    }


def _live(values: np.ndarray, version: str = "v1") -> pd.DataFrame:
    return pd.DataFrame(
        {"progress_gap": values, "p_late": values, "model_version": version,
         "product_category": np.where(np.arange(len(values)) % 2, "knitwear", "cut-and-sew")}
    )  # fmt: skip


def test_the_same_population_is_stable_and_a_shifted_one_calls_for_retraining() -> None:
    rng = np.random.default_rng(0)
    reference = _reference(rng.normal(0, 1, 5000))
    same = psi_report(reference, _live(rng.normal(0, 1, 2000)), "v1")
    assert same["verdict"] == "stable" and max(same["psi"].values()) < 0.1
    shifted = psi_report(reference, _live(rng.normal(1.0, 1, 2000)), "v1")
    assert shifted["verdict"] == "retrain"
    assert shifted["psi"]["progress_gap"] >= RETRAIN_FROM
    assert "progress_gap" in shifted["advice"] and "retrain" in shifted["advice"]


def test_scores_of_another_model_are_not_compared() -> None:
    rng = np.random.default_rng(1)
    reference = _reference(rng.normal(0, 1, 5000))
    live = _live(rng.normal(0, 1, 2000), version="baseline")
    live["p_late"] = 5.0  # the baseline's scores would look like massive drift
    report = psi_report(reference, live, "v1")
    assert "p_late" not in report["psi"] and report["verdict"] == "stable"


def test_too_few_live_samples_give_no_verdict() -> None:
    report = psi_report(_reference(np.arange(100.0)), _live(np.arange(MIN_LIVE_ROWS - 1.0)))
    assert report["verdict"] == "not enough live data" and report["psi"] == {}


def _order(oid: str, last_end: date | None) -> LiveOrder:
    stages = [
        LiveStage(1, "Cutting", date(2031, 1, 1), date(2031, 1, 11),
                  date(2031, 1, 1), date(2031, 1, 12)),
        LiveStage(2, "Sewing", date(2031, 1, 11), date(2031, 1, 31), date(2031, 1, 12), last_end),
    ]  # fmt: skip
    return LiveOrder(oid, supplier_id="S1", product_category="knitwear", quantity=500,
                     order_date=date(2031, 1, 1), target_date=date(2031, 2, 3), stages=stages)  # fmt: skip


def test_the_live_history_export_is_a_training_history(tmp_path: Path) -> None:
    frame = history_rows(
        [
            (_order("done", date(2031, 2, 6)), True, date(2031, 2, 6)),
            (_order("done-no-stage-event", None), True, date(2031, 2, 1)),
            (_order("cancelled", None), True, None),
            (_order("open", None), False, None),
        ]
    )
    summary = summarise_orders(frame)
    assert set(summary.index) == {"done", "done-no-stage-event", "open"}
    assert summary.loc["done", "delay_days"] == 3.0 and bool(summary.loc["done", "late"])
    assert summary.loc["done-no-stage-event", "end"] == pd.Timestamp("2031-02-01")
    assert not summary.loc["open", "labelled"]
    write_history(frame, tmp_path / "live.csv")  # what `retrain` trains on
    loaded, errors = load_history(tmp_path / "live.csv")
    assert errors == [] and len(loaded) == len(frame) == 6
