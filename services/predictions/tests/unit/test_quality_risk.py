import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from looptrace_predictions.quality_features import (
    NORMAL,
    QUALITY_FEATURES,
    REDUCED,
    TIGHTENED,
    switching_severity,
)
from looptrace_predictions.quality_model import QualityModel
from looptrace_predictions.registry import load_active
from looptrace_predictions.training.cli import predictions
from looptrace_predictions.training.inspections import (
    INSPECTION_COLUMNS,
    load_inspections,
    write_inspections,
)
from looptrace_predictions.training.quality_snapshots import (
    build_quality_snapshots,
    index_quality,
)
from looptrace_predictions.training.quality_workflows import evaluate_quality, train_quality
from looptrace_predictions.training.simulate import SimulatedHistory, simulate
from looptrace_predictions.training.simulate_quality import sample_plan

COMPARED = ["order_id", "as_of", "inspection_stage", *QUALITY_FEATURES]


@pytest.fixture(scope="module")
def simulated() -> SimulatedHistory:
    return simulate(600, seed=21)


def test_simulation_is_deterministic_and_writes_every_inspection_column() -> None:
    first, again = simulate(80, seed=7), simulate(80, seed=7)
    pd.testing.assert_frame_equal(first.inspections, again.inspections)
    assert list(first.inspections.columns) == list(INSPECTION_COLUMNS)
    assert set(first.inspections["result"]) == {"accepted", "rejected", "inline"}


def test_lot_results_follow_the_acceptance_numbers_of_their_sample(
    simulated: SimulatedHistory,
) -> None:
    stages = simulated.stages.groupby("order_id")["quantity"].first()
    lots = simulated.inspections[simulated.inspections["result"] != "inline"]
    for row in lots.itertuples():
        n, ac_major, ac_minor = sample_plan(int(stages[row.order_id]))
        assert row.sample_size == n
        assert (row.major > ac_major) == (row.result == "rejected"), row
        assert row.minor <= ac_minor and row.critical == 0


def test_every_rejection_is_a_qc_rework_loop_of_the_stage_history(
    simulated: SimulatedHistory,
) -> None:
    loops = simulated.stages.groupby(["order_id", "stage_name"])["qc_failures"].sum()
    rejected = simulated.inspections[simulated.inspections["result"] == "rejected"]
    counted = rejected.groupby(["order_id", "inspection_stage"]).size()
    pd.testing.assert_series_equal(
        counted, loops[loops > 0].rename_axis(counted.index.names), check_names=False
    )


def test_suppliers_that_fail_more_show_more_defects_on_the_line() -> None:
    sim = simulate(1500, seed=11)
    supplier = sim.stages.groupby("order_id")["supplier_id"].first()
    rows = sim.inspections.assign(supplier_id=lambda f: supplier.reindex(f["order_id"]).values)
    inline = rows[rows["result"] == "inline"]
    defects = inline[["critical", "major", "minor"]].sum(axis=1)
    dhu = (
        100
        * defects.groupby(inline["supplier_id"]).sum()
        / inline.groupby("supplier_id")["sample_size"].sum()
    )
    lots = rows[rows["result"] != "inline"]
    rate = (lots["result"] == "rejected").groupby(lots["supplier_id"]).mean()
    assert np.corrcoef(dhu.reindex(rate.index), rate)[0, 1] > 0.6


def _known_on(sim: SimulatedHistory, day: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What an export on ``day`` would have shown — with that day's results scrambled."""
    history = sim.stages[sim.stages["order_date"] <= day].copy()
    history.loc[history["actual_start"] > day, "actual_start"] = pd.NaT
    history.loc[history["actual_end"] > day, "actual_end"] = pd.NaT
    known = sim.inspections[sim.inspections["inspected_on"] <= day].copy()
    today = (known["inspected_on"] == day) & (known["result"] != "inline")
    known.loc[today, "result"] = np.where(known.loc[today, "result"] == "rejected",
                                          "accepted", "rejected")  # fmt: skip
    known.loc[today, "major"] = 99
    return history.reset_index(drop=True), known.reset_index(drop=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["order_id", "as_of", "inspection_stage", "inspection_round"]
    return frame.sort_values(keys).reset_index(drop=True)[COMPARED]


@pytest.mark.parametrize("quantile", [0.3, 0.6, 0.85])
def test_quality_snapshots_use_only_what_was_known_before_the_inspection(
    simulated: SimulatedHistory, quantile: float
) -> None:
    day = simulated.inspections["inspected_on"].quantile(quantile).floor("D")
    full = build_quality_snapshots(index_quality(simulated.stages, simulated.inspections))
    known = build_quality_snapshots(index_quality(*_known_on(simulated, day)))
    expected = _sorted(full[full["as_of"] <= day])
    actual = _sorted(known[known["as_of"] <= day])
    assert len(expected) > 100
    assert (expected["as_of"] == day).any()
    pd.testing.assert_frame_equal(actual, expected)


def test_switching_tightens_on_two_rejections_in_five_and_relaxes_after_five_accepted() -> None:
    sequence = [False, True, False, True] + [False] * 5 + [False] * 10
    severity = switching_severity(np.array(sequence))
    assert severity[3] == NORMAL and severity[4] == TIGHTENED
    assert severity[8] == TIGHTENED and severity[9] == NORMAL
    assert severity[-1] == REDUCED
    assert switching_severity(np.array([], dtype=bool)).tolist() == [NORMAL]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), max_size=60))
def test_severity_is_always_a_known_level_and_one_per_lot_plus_the_start(
    rejected: list[bool],
) -> None:
    severity = switching_severity(np.array(rejected, dtype=bool))
    assert len(severity) == len(rejected) + 1
    assert set(severity) <= {REDUCED, NORMAL, TIGHTENED}


def test_inspections_csv_round_trips_and_names_each_broken_line(tmp_path: Path) -> None:
    sim = simulate(40, seed=3)
    path = tmp_path / "h.inspections.csv"
    write_inspections(sim.inspections, path)
    frame, errors = load_inspections(path)
    assert errors == []
    pd.testing.assert_frame_equal(frame, sim.inspections)
    with path.open("a", encoding="utf-8") as out:
        out.write("PO-1,Final Inspection,2021-13-01,125,0,1,0,accepted\n")
        out.write("PO-1,Final Inspection,2021-02-01,125,0,1,0,maybe\n")
    frame, errors = load_inspections(path)
    assert len(frame) == len(sim.inspections)
    lines = len(sim.inspections) + 2
    assert errors[0].startswith(f"line {lines}: inspected_on '2021-13-01' is not a date")
    assert errors[1].startswith(f"line {lines + 1}: result 'maybe' is not one of")


def test_trained_on_one_seed_the_model_beats_the_supplier_baseline_on_another(
    tmp_path: Path,
) -> None:
    train_sim, test_sim = simulate(1500, seed=31), simulate(1500, seed=32)
    with threadpool_limits(limits=1):
        report = train_quality(train_sim.stages, train_sim.inspections, "sha", tmp_path)
        model = load_active(tmp_path, QualityModel)
        result = evaluate_quality(test_sim.stages, test_sim.inspections, "other", model, tmp_path)
    assert report.metadata["target"] == "quality"
    start = result["metrics"]["qc_start"]
    assert start["model"]["n"] > 1000
    assert start["model"]["roc_auc"] >= start["baseline"]["roc_auc"] + 0.08
    assert start["model"]["brier"] < start["baseline"]["brier"]


def test_cli_trains_and_evaluates_the_quality_target(tmp_path: Path) -> None:
    runner = CliRunner()
    history, models = tmp_path / "h.csv", tmp_path / "quality"
    steps = [
        ["simulate", "--orders", "500", "--seed", "5", "--out", str(history)],
        ["train", "--target", "quality", "--history", str(history), "--out", str(models)],
    ]
    for args in steps:
        result = runner.invoke(predictions, args)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "h.inspections.csv").exists()
    result = runner.invoke(predictions, ["evaluate", "--target", "quality", "--history",
                                         str(history), "--model", str(models), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["split"].startswith("validation")
    assert set(payload["metrics"]) == {"qc_start", "all_rounds", "qc_start_final",
                                       "qc_start_earlier"}  # fmt: skip
    out = tmp_path / "scored.csv"
    result = runner.invoke(predictions, ["predict", "--target", "quality", "--history",
                                         str(history), "--model", str(models), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["risk_level"].isin(["low", "medium", "high"]).all()


def test_quality_training_without_the_inspections_file_says_where_to_get_it(
    tmp_path: Path,
) -> None:
    history = tmp_path / "h.csv"
    simulate(30, seed=1).stages.to_csv(history, index=False)
    result = CliRunner().invoke(predictions, ["train", "--target", "quality", "--history",
                                              str(history), "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code != 0
    assert "h.inspections.csv does not exist" in result.output
